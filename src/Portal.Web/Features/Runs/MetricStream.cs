using System.Collections.Concurrent;
using Portal.Contracts;

namespace Portal.Web.Features.Runs;

/// <summary>
/// In-process fan-out of metric points once they are stored: ingestion publishes, chart feeds subscribe per run.
/// Subscribers must be quick (hand off to their own queue); a slow one must not hold up ingestion.
/// </summary>
public sealed class MetricStream(ILogger<MetricStream> logger)
{
    private readonly ConcurrentDictionary<long, Func<long, IReadOnlyList<MetricPointDto>, ValueTask>[]> _byRun = new();
    private Func<long, IReadOnlyList<MetricPointDto>, ValueTask>[] _allRuns = [];

    /// <summary>Every run's points (e.g. to keep the chart tiers current); same rules as <see cref="Subscribe"/>.</summary>
    public IDisposable SubscribeAll(Func<long, IReadOnlyList<MetricPointDto>, ValueTask> handler)
    {
        lock (_byRun) _allRuns = [.. _allRuns, handler];
        return new Unsubscriber(() => { lock (_byRun) _allRuns = _allRuns.Where(h => h != handler).ToArray(); });
    }

    public IDisposable Subscribe(long runId, Func<long, IReadOnlyList<MetricPointDto>, ValueTask> handler)
    {
        _byRun.AddOrUpdate(runId, _ => [handler], (_, hs) => [.. hs, handler]);
        return new Unsubscriber(() => _byRun.AddOrUpdate(runId, _ => [], (_, hs) => hs.Where(h => h != handler).ToArray()));
    }

    public async ValueTask PublishAsync(long runId, IReadOnlyList<MetricPointDto> points)
    {
        if (points.Count == 0) return;
        var handlers = _byRun.TryGetValue(runId, out var forRun) ? [.. _allRuns, .. forRun] : _allRuns;
        foreach (var handler in handlers)
        {
            try { await handler(runId, points); }
            catch (Exception e) { logger.LogWarning(e, "A metric subscriber of run {RunId} failed", runId); }
        }
    }

    private sealed class Unsubscriber(Action action) : IDisposable
    {
        private int _done;
        public void Dispose() { if (Interlocked.Exchange(ref _done, 1) == 0) action(); }
    }
}
