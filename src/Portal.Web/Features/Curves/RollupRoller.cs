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
public sealed class RollupRoller(MetricStream stream, CurveRollups rollups, ILogger<RollupRoller> logger) : BackgroundService
{
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
        using var timer = new PeriodicTimer(Interval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            foreach (var key in _touched.Keys)
            {
                if (!_touched.TryRemove(key, out var kept)) continue;
                var points = kept.Take();
                try
                {
                    if (points is not null)
                    {
                        await rollups.RollStoredAsync(key.RunId, key.Name, points, stoppingToken);
                    }
                    else
                    {
                        await using var connection = await rollups.OpenAsync(stoppingToken);
                        await rollups.EnsureCurrentAsync(connection, key.RunId, key.Name, stoppingToken);
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning(e, "Could not roll up {Metric} of run {RunId}", key.Name, key.RunId);
                }
            }
        }
    }

    /// <summary>Called by the metric writer after each commit, on its own loop: one dictionary lookup per series run of points.</summary>
    private void Keep(long runId, IReadOnlyList<MetricPointDto> points)
    {
        Kept? kept = null;
        string? name = null;
        foreach (var point in points)
        {
            if (!ReferenceEquals(point.Name, name) && point.Name != name)
            {
                name = point.Name;
                kept = _touched.GetOrAdd((runId, name), _ => new Kept());
            }
            var stored = new SeriesPoint(point.Step, point.Value, point.WallTime.ToUnixTimeMilliseconds());
            // A round may have taken this series' points since the lookup: start the next round's.
            while (!kept!.Add(stored)) kept = _touched.GetOrAdd((runId, name), _ => new Kept());
        }
    }

    /// <summary>The points of one series stored since the last round; null once there were too many to keep.</summary>
    private sealed class Kept
    {
        private List<SeriesPoint>? _points = [];
        private bool _taken;

        /// <summary>False when the round has taken the points already: the caller keeps the point in a new entry.</summary>
        public bool Add(SeriesPoint point)
        {
            lock (this)
            {
                if (_taken) return false;
                if (_points is null) return true;
                if (_points.Count >= MaxKeptPerSeries) _points = null;
                else _points.Add(point);
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
