using System.Collections.Concurrent;
using Portal.Web.Features.Runs;

namespace Portal.Web.Features.Curves;

/// <summary>
/// Brings the chart tiers of series that received points up to date, off the ingestion path, so that opening a
/// chart of a long run finds them current. It works once a second over the series touched since: catching up many
/// batches at once costs about the same as one, and the metric writer meets its SQLite write lock rarely.
/// </summary>
public sealed class RollupRoller(MetricStream stream, CurveRollups rollups, ILogger<RollupRoller> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    private readonly ConcurrentDictionary<(long RunId, string Name), byte> _touched = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var subscription = stream.SubscribeAll((runId, points) =>
        {
            foreach (var point in points) _touched.TryAdd((runId, point.Name), 0);
            return ValueTask.CompletedTask;
        });
        using var timer = new PeriodicTimer(Interval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            foreach (var key in _touched.Keys)
            {
                _touched.TryRemove(key, out _);
                try
                {
                    await using var connection = await rollups.OpenAsync(stoppingToken);
                    await rollups.EnsureCurrentAsync(connection, key.RunId, key.Name, stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning(e, "Could not roll up {Metric} of run {RunId}", key.Name, key.RunId);
                }
            }
        }
    }
}
