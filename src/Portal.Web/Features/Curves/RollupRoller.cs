using System.Collections.Concurrent;
using System.Threading.Channels;
using Portal.Web.Features.Runs;

namespace Portal.Web.Features.Curves;

/// <summary>
/// Brings a series' chart tiers up to date shortly after each stored batch, off the ingestion path, so that
/// opening a chart of a long run finds the tiers current. A series already queued is not queued twice.
/// </summary>
public sealed class RollupRoller(MetricStream stream, CurveRollups rollups, ILogger<RollupRoller> logger) : BackgroundService
{
    private readonly Channel<(long RunId, string Name)> _queue = Channel.CreateUnbounded<(long, string)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<(long, string), byte> _pending = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var subscription = stream.SubscribeAll((runId, points) =>
        {
            foreach (var name in points.Select(p => p.Name).Distinct())
                if (_pending.TryAdd((runId, name), 0)) _queue.Writer.TryWrite((runId, name));
            return ValueTask.CompletedTask;
        });
        await foreach (var (runId, name) in _queue.Reader.ReadAllAsync(stoppingToken))
        {
            _pending.TryRemove((runId, name), out _);
            try
            {
                await using var connection = await rollups.OpenAsync(stoppingToken);
                await rollups.EnsureCurrentAsync(connection, runId, name, stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Could not roll up {Metric} of run {RunId}", name, runId);
            }
        }
    }
}
