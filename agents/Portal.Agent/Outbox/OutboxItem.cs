using System.Text.Json.Serialization;
using Portal.Contracts;

namespace Portal.Agent.Outbox;

/// <summary>
/// Something the agent owes the portal. Everything a run reports goes through the outbox in order, so a
/// checkpoint is announced only after its upload and a run is reported finished only after its last point.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "kind")]
[JsonDerivedType(typeof(MetricsItem), "metrics")]
[JsonDerivedType(typeof(LogItem), "log")]
[JsonDerivedType(typeof(ConfigItem), "config")]
[JsonDerivedType(typeof(CheckpointItem), "checkpoint")]
[JsonDerivedType(typeof(FinishedItem), "finished")]
[JsonDerivedType(typeof(EnvironmentItem), "environment")]
[JsonDerivedType(typeof(ReportItem), "report")]
public abstract record OutboxItem(long RunId);

public sealed record MetricsItem(long RunId, IReadOnlyList<MetricPointDto> Points) : OutboxItem(RunId);

public sealed record LogItem(long RunId, IReadOnlyList<string> Lines) : OutboxItem(RunId);

/// <summary>Upload of the run's config as an artifact.</summary>
public sealed record ConfigItem(long RunId, string ConfigJson) : OutboxItem(RunId);

/// <summary>Upload of a checkpoint file, then <see cref="IAgentHub.CheckpointSaved"/>.</summary>
public sealed record CheckpointItem(long RunId, long Step, string Path) : OutboxItem(RunId);

/// <summary>The environment the run trains in, sent when the agent starts or resumes it.</summary>
public sealed record EnvironmentItem(long RunId, RunEnvironment Environment) : OutboxItem(RunId);

/// <summary>Upload of a differential run's per-layer report (JSON) as an artifact of kind "differential".</summary>
public sealed record ReportItem(long RunId, string ReportJson) : OutboxItem(RunId);

public sealed record FinishedItem(long RunId, RunOutcome Outcome) : OutboxItem(RunId);

/// <summary>A pending item and its position in the outbox.</summary>
public sealed record OutboxEntry(long Sequence, OutboxItem Item);
