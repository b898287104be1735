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

    public TimeSpan LostAfter => TimeSpan.FromSeconds(LostAfterSeconds);
}
