using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR;
using Portal.Contracts;
using Portal.Web.Features.Runs;

namespace Portal.Web.Features.Curves;

/// <summary>
/// Forwards stored points from <see cref="MetricStream"/> to the viewers' hub groups. It subscribes to a run only
/// while a viewer watches it, and hands points to its own queue so ingestion never waits on slow viewers.
/// One message per (run, metric) batch goes to the group, packed (LivePointsCodec) and serialized once for all its
/// connections. With several instances (Redis configured) the viewers of a run may be connected to any instance,
/// so the instance that stored the points sends every run's points to the hub groups and SignalR's Redis backplane
/// delivers them wherever the viewers are; each point is stored, and so sent, by one instance only.
/// </summary>
public sealed class MetricFanout(MetricStream stream, IHubContext<MetricsHub, IMetricsViewer> hub,
    Microsoft.Extensions.Options.IOptions<PortalOptions> options, ILogger<MetricFanout> logger) : BackgroundService
{
    private readonly bool _clustered = options.Value.UsesRedis;
    private readonly Channel<(long RunId, IReadOnlyList<MetricPointDto> Points)> _queue =
        Channel.CreateUnbounded<(long, IReadOnlyList<MetricPointDto>)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _gate = new();
    private readonly Dictionary<long, (IDisposable Subscription, HashSet<string> Connections)> _runs = [];
    private readonly Dictionary<string, HashSet<long>> _byConnection = [];

    public static string Group(long runId, string? metric) => $"curve:{runId}:{metric ?? "*"}";

    public void Track(string connectionId, long runId)
    {
        if (_clustered) return; // every run's points go out already (see ExecuteAsync)
        lock (_gate)
        {
            if (!_byConnection.TryGetValue(connectionId, out var watched)) _byConnection[connectionId] = watched = [];
            if (!watched.Add(runId)) return;
            if (!_runs.TryGetValue(runId, out var entry))
                _runs[runId] = entry = (stream.Subscribe(runId, Enqueue), []);
            entry.Connections.Add(connectionId);
        }
    }

    public void Forget(string connectionId)
    {
        lock (_gate)
        {
            if (!_byConnection.Remove(connectionId, out var watched)) return;
            foreach (var runId in watched)
            {
                if (!_runs.TryGetValue(runId, out var entry)) continue;
                entry.Connections.Remove(connectionId);
                if (entry.Connections.Count > 0) continue;
                entry.Subscription.Dispose();
                _runs.Remove(runId);
            }
        }
    }

    private ValueTask Enqueue(long runId, IReadOnlyList<MetricPointDto> points)
    {
        _queue.Writer.TryWrite((runId, points));
        return ValueTask.CompletedTask;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var all = _clustered ? stream.SubscribeAll(Enqueue) : null;
        while (await _queue.Reader.WaitToReadAsync(stoppingToken))
        {
            // Whatever queued up while the last messages went out travels together: one message per (run, metric)
            // however many batches it holds, so a busy moment costs fewer sends instead of a growing backlog.
            var pending = new List<(long RunId, IReadOnlyList<MetricPointDto> Points)>();
            while (pending.Count < 1000 && _queue.Reader.TryRead(out var item)) pending.Add(item);
            foreach (var ((runId, name), points) in BySeries(pending))
            {
                var message = Pack(runId, name, points);
                try
                {
                    // One call for the metric's group and the run's: with Redis the message is serialized once.
                    await hub.Clients.Groups(Group(runId, name), Group(runId, null)).Points(message);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning(e, "Could not forward points of run {RunId} to its viewers", runId);
                }
            }
        }
    }

    /// <summary>The queued points by (run, metric), in the order they were stored.</summary>
    private static IReadOnlyDictionary<(long RunId, string Name), List<MetricPointDto>> BySeries(List<(long RunId, IReadOnlyList<MetricPointDto> Points)> pending)
    {
        var bySeries = new PointsBySeries();
        foreach (var (runId, points) in pending) bySeries.Add(runId, points);
        return bySeries.Series;
    }

    /// <summary>One series' points as a live message, in step order (batches usually are already).</summary>
    private static LivePoints Pack(long runId, string name, List<MetricPointDto> points)
    {
        var ordered = true;
        for (var i = 1; i < points.Count && ordered; i++) ordered = points[i - 1].Step <= points[i].Step;
        if (!ordered) points = points.OrderBy(p => p.Step).ToList(); // stable: a step resent after a resume keeps its order
        var steps = new long[points.Count];
        var values = new double[points.Count];
        var times = new long[points.Count];
        for (var i = 0; i < points.Count; i++)
        {
            steps[i] = points[i].Step;
            values[i] = points[i].Value;
            times[i] = points[i].WallTime.ToUnixTimeMilliseconds();
        }
        return new LivePoints(runId, name, points.Count, LivePointsCodec.Encode(steps, values, times));
    }
}
