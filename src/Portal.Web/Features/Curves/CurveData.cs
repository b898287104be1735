using System.Data.Common;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Curves;

/// <summary>
/// The points of one run's metric as a chart draws them. <see cref="Level"/> is log2 of the bucket width
/// (0: every point); Values are null where the stored value was NaN (a gap). Times are Unix milliseconds.
/// </summary>
public sealed record SeriesData(long RunId, string Metric, int Level, long Count, long MinStep, long MaxStep,
    long[] Steps, double?[] Values, long[] Times)
{
    public static SeriesData Empty(long runId, string metric) => new(runId, metric, 0, 0, 0, -1, [], [], []);

    public static SeriesData From(long runId, string metric, int level, SeriesState state, List<SeriesPoint> points) =>
        new(runId, metric, level, state.Count, state.MinStep, state.MaxStep,
            points.Select(p => p.Step).ToArray(),
            // NaN and infinities cannot be drawn (nor written as JSON numbers): the chart shows a gap there.
            points.Select(p => double.IsFinite(p.Value) ? p.Value : (double?)null).ToArray(),
            points.Select(p => p.TimeMs).ToArray());
}

/// <summary>Reads the points to draw for a series and step range from the tiers, never touching more raw points than fit on the chart.</summary>
public static class SeriesReader
{
    public static async Task<SeriesData> ReadAsync(CurveRollups rollups, DbConnection connection, long runId, string metric,
        long? fromStep, long? toStep, int maxPoints, CancellationToken cancellationToken)
    {
        var state = await rollups.EnsureCurrentAsync(connection, runId, metric, cancellationToken);
        if (state is null) return SeriesData.Empty(runId, metric);
        var from = Math.Max(fromStep ?? state.MinStep, state.MinStep);
        var to = Math.Min(toStep ?? state.MaxStep, state.MaxStep);
        if (from > to) return SeriesData.From(runId, metric, 0, state, []);

        var whole = from == state.MinStep && to == state.MaxStep;
        if (whole && state.Count <= maxPoints)
            return SeriesData.From(runId, metric, 0, state, await CurveRollups.ReadRawAsync(connection, runId, metric, from, to, maxPoints, cancellationToken));

        // A tier whose buckets over the range fit the budget; edge buckets the range cuts through come from raw
        // points (at most two buckets' worth), whole buckets from the tier.
        var k = CurveLevels.ChooseByRange(from, to, maxPoints);
        long b0 = from >> k, b1 = to >> k;
        var leftCut = from > state.MinStep && from > b0 << k;
        var rightCut = to < state.MaxStep && to < ((b1 + 1) << k) - 1;
        if (b0 == b1 && (leftCut || rightCut)) (leftCut, rightCut) = (true, false);
        // A cut bucket of a coarse tier can hold nearly every point (one far-out step puts the whole run in one
        // top-tier bucket), so it is summarized from finer tiers, not from its raw points.
        var below = Array.IndexOf(CurveLevels.Tiers, k) - 1;
        var left = leftCut ? await SummarizeRangeAsync(connection, runId, metric, from, Math.Min(to, ((b0 + 1) << k) - 1), below, cancellationToken) : new M4Bucket();
        var right = rightCut ? await SummarizeRangeAsync(connection, runId, metric, Math.Max(from, b1 << k), to, below, cancellationToken) : new M4Bucket();
        var innerFirst = leftCut ? b0 + 1 : b0;
        var innerLast = rightCut ? b1 - 1 : b1;
        var inner = innerFirst <= innerLast
            ? await CurveRollups.ReadBucketsAsync(connection, runId, metric, k, innerFirst, innerLast, cancellationToken)
            : [];

        var count = left.Count + right.Count + inner.Sum(r => r.Summary.Count);
        if (CurveLevels.Choose(count, from, to, maxPoints) == 0)
            return SeriesData.From(runId, metric, 0, state, await CurveRollups.ReadRawAsync(connection, runId, metric, from, to, maxPoints, cancellationToken));

        var output = new List<SeriesPoint>();
        if (left.Count > 0) left.EmitTo(output);
        foreach (var (_, summary) in inner) summary.EmitTo(output);
        if (right.Count > 0) right.EmitTo(output);
        return SeriesData.From(runId, metric, k, state, output);
    }

    /// <summary>
    /// The M4 summary of the points in [lo, hi] from the whole buckets of tier <c>Tiers[tierIndex]</c> and below,
    /// descending one tier for what is left at each end: at most three buckets per tier and end, and at most three
    /// raw points below the finest tier, however many points the range holds.
    /// </summary>
    private static async Task<M4Bucket> SummarizeRangeAsync(DbConnection connection, long runId, string metric, long lo, long hi,
        int tierIndex, CancellationToken cancellationToken)
    {
        var m4 = new M4Bucket();
        if (lo > hi) return m4;
        if (tierIndex < 0)
        {
            foreach (var p in await CurveRollups.ReadRawAsync(connection, runId, metric, lo, hi, int.MaxValue, cancellationToken)) m4.Add(p);
            return m4;
        }
        var k = CurveLevels.Tiers[tierIndex];
        var mask = (1L << k) - 1;
        long first = (lo >> k) + ((lo & mask) == 0 ? 0 : 1), last = (hi >> k) - ((hi & mask) == mask ? 0 : 1);
        if (first > last) return await SummarizeRangeAsync(connection, runId, metric, lo, hi, tierIndex - 1, cancellationToken);
        m4.Merge(await SummarizeRangeAsync(connection, runId, metric, lo, (first << k) - 1, tierIndex - 1, cancellationToken));
        foreach (var (_, summary) in await CurveRollups.ReadBucketsAsync(connection, runId, metric, k, first, last, cancellationToken)) m4.Merge(summary);
        if (last < long.MaxValue >> k)
            m4.Merge(await SummarizeRangeAsync(connection, runId, metric, (last + 1) << k, hi, tierIndex - 1, cancellationToken));
        return m4;
    }
}
