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

    /// <summary>
    /// Called by the metric writer after each commit, on its own loop. Agents log several metrics per step, so the
    /// names of a batch interleave; the points are sorted by metric here first (the few names of a batch are found by
    /// reference), so each series costs one lookup and one lock per batch.
    /// </summary>
    private void Keep(long runId, IReadOnlyList<MetricPointDto> points)
    {
        var byName = new List<(string Name, List<SeriesPoint> Points)>();
        var last = -1;
        foreach (var point in points)
        {
            if (last < 0 || !ReferenceEquals(byName[last].Name, point.Name)) last = IndexOf(byName, point.Name);
            byName[last].Points.Add(new SeriesPoint(point.Step, point.Value, point.WallTime.ToUnixTimeMilliseconds()));
        }
        foreach (var (name, series) in byName)
        {
            // A round may have taken this series' points since the lookup: they go to the next round's entry.
            while (!_touched.GetOrAdd((runId, name), _ => new Kept()).Add(series)) { }
        }
    }

    private static int IndexOf(List<(string Name, List<SeriesPoint> Points)> byName, string name)
    {
        for (var i = 0; i < byName.Count; i++) if (ReferenceEquals(byName[i].Name, name)) return i;
        for (var i = 0; i < byName.Count; i++) if (byName[i].Name == name) return i;
        byName.Add((name, []));
        return byName.Count - 1;
    }

    /// <summary>The points of one series stored since the last round; null once there were too many to keep.</summary>
    private sealed class Kept
    {
        private List<SeriesPoint>? _points = [];
        private bool _taken;

        /// <summary>False when the round has taken the points already: the caller keeps them in a new entry.</summary>
        public bool Add(List<SeriesPoint> points)
        {
            lock (this)
            {
                if (_taken) return false;
                if (_points is null) return true;
                if (_points.Count + points.Count > MaxKeptPerSeries) _points = null;
                else if (_points.Count == 0) _points = points;
                else _points.AddRange(points);
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
