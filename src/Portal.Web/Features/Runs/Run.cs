namespace Portal.Web.Features.Runs;

/// <summary>One training or test job, from the queue to its final metrics.</summary>
public sealed class Run
{
    public long Id { get; set; }
    public long ProjectId { get; set; }
    /// <summary>Recipe name the agent knows, e.g. "detector" or "classifier".</summary>
    public string Recipe { get; set; } = "";
    public string ConfigJson { get; set; } = "{}";
    public int Seed { get; set; }
    public long? TaskId { get; set; }
    public string? Commit { get; set; }
    /// <summary>Evaluation dataset and split, taken from the config; gates compare them with a claim's.</summary>
    public string Dataset { get; set; } = "";
    public string Split { get; set; } = "";
    public RunStatus Status { get; set; } = RunStatus.Queued;
    public string StartedById { get; set; } = "";
    public long? AgentId { get; set; }
    /// <summary>Hardware the run trained on, as the agent reported it (JSON of AgentHardware).</summary>
    public string? HardwareJson { get; set; }
    /// <summary>The environment the run trained in (JSON of RunEnvironment), as its agent recorded it at the start.</summary>
    public string? EnvironmentJson { get; set; }
    public DateTimeOffset QueuedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? EndedAt { get; set; }
    public string? FailureReason { get; set; }
    /// <summary>Step of the newest checkpoint stored in the portal; a resume continues after it.</summary>
    public long? LastCheckpointStep { get; set; }
    /// <summary>Set when the run is queued again to resume from its last checkpoint.</summary>
    public long? ResumeFromStep { get; set; }
    public long LastStep { get; set; }
    /// <summary>Last time the run's agent said it is still running it; the run is Lost when this grows old.</summary>
    public DateTimeOffset? LastHeartbeatAt { get; set; }
    /// <summary>UTF-8 bytes of the log lines its agent sent, counted against <see cref="RunsOptions.MaxLogBytesPerRun"/>.</summary>
    public long LogBytes { get; set; }
    /// <summary>How often the portal itself queued the run again after it went Lost; counted against the project's limit.</summary>
    public int AutoRestarts { get; set; }
    public int Version { get; set; }

    public List<RunFinalMetric> FinalMetrics { get; set; } = [];

    public bool IsFinished => Status is RunStatus.Succeeded or RunStatus.Failed or RunStatus.Cancelled or RunStatus.Lost;
}

public enum RunStatus { Queued, Running, Succeeded, Failed, Cancelled, Lost }

/// <summary>A final evaluation metric of a run (e.g. AP50), as the agent computed it.</summary>
public sealed class RunFinalMetric
{
    public long Id { get; set; }
    public long RunId { get; set; }
    public string Name { get; set; } = "";
    public double Value { get; set; }
}

/// <summary>
/// One point of a metric series. Keyed by (run, name, step) so that a point sent twice is stored once.
/// Written in batches through the metric writer, never through SaveChanges one by one.
/// </summary>
public sealed class MetricPoint
{
    public long RunId { get; set; }
    public string Name { get; set; } = "";
    public long Step { get; set; }
    /// <summary>May be NaN or infinite: a diverged loss is a result worth keeping. NaN is stored as <see cref="NaNSentinel"/>.</summary>
    public double Value { get; set; }
    public DateTimeOffset WallTime { get; set; }
}

public sealed class RunLogLine
{
    public long Id { get; set; }
    public long RunId { get; set; }
    public string Text { get; set; } = "";
    public DateTimeOffset At { get; set; }
}

/// <summary>A file a run produced (checkpoint, config), stored by content hash.</summary>
public sealed class RunArtifact
{
    public long Id { get; set; }
    public long RunId { get; set; }
    /// <summary>"checkpoint" or "config".</summary>
    public string Kind { get; set; } = "";
    public string FileName { get; set; } = "";
    public long SizeBytes { get; set; }
    public string Sha256 { get; set; } = "";
    public string StoragePath { get; set; } = "";
    public long? Step { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>
/// Something the portal refused for good from the run's agent (points of a finished run, a log over the cap, an
/// outcome with too many metrics), shown on the run page. The same refusal again only counts up.
/// </summary>
public sealed class RunRefusal
{
    public const int MaxReasonLength = 500;

    public long Id { get; set; }
    public long RunId { get; set; }
    /// <summary>What was refused: "metrics", "log", "checkpoint", "config" or "outcome".</summary>
    public string What { get; set; } = "";
    public string Reason { get; set; } = "";
    public int Count { get; set; } = 1;
    public DateTimeOffset LastAt { get; set; }
}

/// <summary>
/// One time a Lost or Failed run was queued again from its checkpoint: by a person (Resume) or by the portal
/// (a Lost run under the project's automatic-restart limit). Kept so the run page shows the whole history.
/// </summary>
public sealed class RunRestart
{
    public const int MaxReasonLength = 500;

    public long Id { get; set; }
    public long RunId { get; set; }
    public DateTimeOffset At { get; set; }
    public long FromStep { get; set; }
    public bool Automatic { get; set; }
    /// <summary>Who resumed it; null when the portal restarted it.</summary>
    public string? ByUserId { get; set; }
    /// <summary>Why the run needed restarting, e.g. the Lost reason of its agent.</summary>
    public string Reason { get; set; } = "";
}
