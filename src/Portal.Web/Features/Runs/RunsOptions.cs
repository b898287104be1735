namespace Portal.Web.Features.Runs;

/// <summary>Settings of runs and agents (section Portal:Runs).</summary>
public sealed class RunsOptions
{
    public const string Section = "Portal:Runs";

    /// <summary>A running run whose agent has not confirmed it for this long is marked Lost.</summary>
    public double LostAfterSeconds { get; set; } = 30;

    /// <summary>How often agents are asked to heartbeat.</summary>
    public int HeartbeatSeconds { get; set; } = 5;

    /// <summary>Largest artifact (checkpoint, config) an agent may upload.</summary>
    public long MaxArtifactBytes { get; set; } = 1L << 30;

    /// <summary>Steps above this are refused as absurd (a bug in the sender, not a long run).</summary>
    public long MaxStep { get; set; } = 1_000_000_000_000;

    /// <summary>Distinct metric names one run may have; points of further names are refused.</summary>
    public int MaxMetricNamesPerRun { get; set; } = 100;

    /// <summary>Final metrics one outcome may carry; an outcome with more is refused whole.</summary>
    public int MaxFinalMetrics { get; set; } = 200;

    /// <summary>Log text (UTF-8 bytes) one run may store; lines beyond it are refused.</summary>
    public long MaxLogBytesPerRun { get; set; } = 10L * 1024 * 1024;

    /// <summary>All artifacts of one run together (checkpoints and config).</summary>
    public long MaxArtifactBytesPerRun { get; set; } = 2L << 30;

    /// <summary>
    /// On PostgreSQL, how many connections store metric points side by side, each for its share of the runs (see
    /// <see cref="MetricWriter"/>). With one, the server waits while the portal prepares and commits a group; two kept
    /// a two-core server busy, more only added contention there (measured in docs/benchmarks.md).
    /// </summary>
    public int PostgresWriterLanes { get; set; } = 2;

    public TimeSpan LostAfter => TimeSpan.FromSeconds(LostAfterSeconds);
}
