using System.Collections.Concurrent;
using Portal.Training;

namespace Portal.Agent.Tests.Training;

/// <summary>Keeps everything a run reports, for assertions.</summary>
internal sealed class RecordingSink : ITrainingSink
{
    public ConcurrentQueue<MetricSample> Points { get; } = new();
    public ConcurrentQueue<string> Lines { get; } = new();
    public ConcurrentQueue<(long Step, string Path)> Checkpoints { get; } = new();

    public void ReportMetrics(IReadOnlyList<MetricSample> points) { foreach (var p in points) Points.Enqueue(p); }
    public void Log(string line) => Lines.Enqueue(line);
    public void CheckpointSaved(long step, string path) => Checkpoints.Enqueue((step, path));

    public double[] Series(string name) => Points.Where(p => p.Name == name).OrderBy(p => p.Step).Select(p => p.Value).ToArray();
}
