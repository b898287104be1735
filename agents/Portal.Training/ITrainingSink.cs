namespace Portal.Training;

/// <summary>One value of a metric series at a step, e.g. ("train/loss", 120, 0.83).</summary>
public sealed record MetricSample(string Name, long Step, double Value, DateTimeOffset WallTime);

/// <summary>
/// Where a training run reports progress. Called on the training thread; implementations must be quick
/// (the agent appends to its on-disk outbox) and must not throw for transient reasons.
/// </summary>
public interface ITrainingSink
{
    void ReportMetrics(IReadOnlyList<MetricSample> points);

    void Log(string line);

    /// <summary>A checkpoint file for <paramref name="step"/> is complete at <paramref name="path"/>.</summary>
    void CheckpointSaved(long step, string path);
}
