using System.Collections.Concurrent;
using Portal.Contracts;
using Portal.Web.Features.Runs;

namespace Portal.Web.Features.Curves;

/// <summary>
/// Brings the chart tiers of series that received points up to date, off the ingestion path, so that opening a
/// chart of a long run finds them current. It works once a second over the series touched since: catching up many
/// batches at once costs about the same as one, and the metric writer meets its SQLite write lock rarely.
/// It keeps the points this instance stored in the meantime and rolls them in directly
/// (<see cref="CurveRollups.RollStoredAsync"/>); reading them back from the table cost as much CPU as storing them.
/// </summary>
public sealed class RollupRoller(MetricStream stream, CurveRollups rollups, Microsoft.Extensions.Options.IOptions<PortalOptions> options,
    ILogger<RollupRoller> logger) : BackgroundService
{
    /// <summary>
    /// With several instances another one may store points of a series (an agent that failed over), so kept points
    /// are checked against the table's count. A single instance's writer stores every point and publishes it here,
    /// so once a series was rolled from the table in this process, its kept points are all there is to add.
    /// </summary>
    private readonly bool _verify = options.Value.UsesRedis;

    /// <summary>Series rolled from the table since this process started and not failed since (see <see cref="_verify"/>).</summary>
    private readonly ConcurrentDictionary<(long RunId, string Name), byte> _current = new();

    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Points kept per series between two rounds. Past it (the roller fell far behind) the series forgets them and
    /// rolls from the table, so a stalled database cannot make the portal's memory grow without bound.
    /// </summary>
    internal const int MaxKeptPerSeries = 1_000_000;

    private readonly ConcurrentDictionary<(long RunId, string Name), Kept> _touched = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var subscription = stream.SubscribeAll((runId, points) =>
        {
            Keep(runId, points);
            return ValueTask.CompletedTask;
        });
        rollups.RunForgotten += Forget;
        try
        {
            await RollEverySecondAsync(stoppingToken);
        }
        finally
        {
            rollups.RunForgotten -= Forget;
        }
    }

    private async Task RollEverySecondAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            foreach (var key in _touched.Keys)
            {
                if (!_touched.TryRemove(key, out var kept)) continue;
                var points = kept.Take();
                try
                {
                    if (points is not null && (_verify || _current.ContainsKey(key)))
                    {
                        await rollups.RollStoredAsync(key.RunId, key.Name, points, _verify, stoppingToken);
                    }
                    else
                    {
                        // Points stored before this process started, or kept points given up, are only in the table.
                        await using var connection = await rollups.OpenAsync(stoppingToken);
                        await rollups.EnsureCurrentAsync(connection, key.RunId, key.Name, stoppingToken);
                        if (_current.Count > 100_000) _current.Clear(); // finished runs need no entry
                        _current.TryAdd(key, 0);
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    _current.TryRemove(key, out _); // the points this round held are lost: the next round reads the table
                    logger.LogWarning(e, "Could not roll up {Metric} of run {RunId}", key.Name, key.RunId);
                }
            }
        }
    }

    /// <summary>
    /// A resume replaces the run's points after its checkpoint: points kept of it may be replaced ones, and its
    /// series are rolled from the table again.
    /// </summary>
    private void Forget(long runId)
    {
        foreach (var key in _touched.Keys)
            if (key.RunId == runId && _touched.TryRemove(key, out var kept)) kept.Take();
        foreach (var key in _current.Keys)
            if (key.RunId == runId) _current.TryRemove(key, out _);
    }

    /// <summary>
    /// Called by the metric writer after each commit, on the loop of the run's lane (lanes call at the same time, a
    /// series always from the same lane): one lookup and lock per series and batch.
    /// </summary>
    private void Keep(long runId, IReadOnlyList<MetricPointDto> points)
    {
        var bySeries = new PointsBySeries();
        bySeries.Add(runId, points);
        foreach (var (key, series) in bySeries.Series)
        {
            // A round may have taken this series' points since the lookup: they go to the next round's entry.
            while (!_touched.GetOrAdd(key, _ => new Kept()).Add(series)) { }
        }
    }

    /// <summary>The points of one series stored since the last round; null once there were too many to keep.</summary>
    private sealed class Kept
    {
        private List<SeriesPoint>? _points = [];
        private bool _taken;

        /// <summary>False when the round has taken the points already: the caller keeps them in a new entry.</summary>
        public bool Add(List<MetricPointDto> points)
        {
            lock (this)
            {
                if (_taken) return false;
                if (_points is null) return true;
                if (_points.Count + points.Count > MaxKeptPerSeries)
                {
                    _points = null;
                    return true;
                }
                foreach (var point in points) _points.Add(new SeriesPoint(point.Step, point.Value, point.WallTime.ToUnixTimeMilliseconds()));
                return true;
            }
        }

        public List<SeriesPoint>? Take()
        {
            lock (this)
            {
                _taken = true;
                return _points;
            }
        }
    }
}
