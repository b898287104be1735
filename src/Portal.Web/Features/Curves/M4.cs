namespace Portal.Web.Features.Curves;

/// <summary>One stored metric point as the charts see it: NaN values stay NaN (drawn as gaps).</summary>
public readonly record struct SeriesPoint(long Step, double Value, long TimeMs);

/// <summary>
/// The M4 summary of the points in one step bucket: first, last, lowest and highest value (each with its step
/// and wall time) and the first NaN. Drawing these four points per pixel-wide bucket gives the same picture as
/// drawing every point, so spikes survive. Summaries merge exactly: the summary of two adjacent buckets is the
/// merge of their summaries, which is what lets coarse tiers be built from fine ones and live points be added.
/// Ties go to the earlier step, so the result does not depend on the order of merging.
/// </summary>
public struct M4Bucket
{
    public long Count;
    public bool HasValue;
    public SeriesPoint First, Last, Min, Max;
    public bool HasNaN;
    public SeriesPoint FirstNaN;

    public void Add(in SeriesPoint p)
    {
        Count++;
        if (double.IsNaN(p.Value))
        {
            if (!HasNaN || p.Step < FirstNaN.Step) { FirstNaN = p; HasNaN = true; }
            return;
        }
        if (!HasValue) { First = Last = Min = Max = p; HasValue = true; return; }
        if (p.Step < First.Step) First = p;
        if (p.Step > Last.Step) Last = p;
        if (p.Value < Min.Value || (p.Value == Min.Value && p.Step < Min.Step)) Min = p;
        if (p.Value > Max.Value || (p.Value == Max.Value && p.Step < Max.Step)) Max = p;
    }

    public void Merge(in M4Bucket other)
    {
        if (other.HasNaN && (!HasNaN || other.FirstNaN.Step < FirstNaN.Step)) { FirstNaN = other.FirstNaN; HasNaN = true; }
        if (other.HasValue)
        {
            if (!HasValue) { First = other.First; Last = other.Last; Min = other.Min; Max = other.Max; HasValue = true; }
            else
            {
                if (other.First.Step < First.Step) First = other.First;
                if (other.Last.Step > Last.Step) Last = other.Last;
                if (other.Min.Value < Min.Value || (other.Min.Value == Min.Value && other.Min.Step < Min.Step)) Min = other.Min;
                if (other.Max.Value > Max.Value || (other.Max.Value == Max.Value && other.Max.Step < Max.Step)) Max = other.Max;
            }
        }
        Count += other.Count;
    }

    /// <summary>The bucket's distinct points in step order (at most five: four extremes and a NaN marker).</summary>
    public readonly void EmitTo(List<SeriesPoint> output)
    {
        var start = output.Count;
        if (HasValue)
        {
            output.Add(First);
            if (Min.Step != First.Step) output.Add(Min);
            if (Max.Step != First.Step && Max.Step != Min.Step) output.Add(Max);
            if (Last.Step != First.Step && Last.Step != Min.Step && Last.Step != Max.Step) output.Add(Last);
        }
        if (HasNaN) output.Add(FirstNaN);
        output.Sort(start, output.Count - start, StepOrder.Instance);
    }

    private sealed class StepOrder : IComparer<SeriesPoint>
    {
        public static readonly StepOrder Instance = new();
        public int Compare(SeriesPoint a, SeriesPoint b) => a.Step.CompareTo(b.Step);
    }
}

/// <summary>
/// How a step range is drawn: every point when they fit, otherwise M4 summaries of power-of-four-aligned step
/// buckets (widths 4, 16, 64, ... steps). The browser runs the same rule on live points (wwwroot/js/curves/levels.js,
/// <c>chooseLevel</c>), so a live chart and a reloaded one show the same points.
/// </summary>
public static class CurveLevels
{
    public const int DefaultMaxPoints = 2000;

    /// <summary>Stored tiers: log2 of the bucket width. 2^30 steps covers any training run.</summary>
    public static readonly int[] Tiers = [4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30];

    /// <summary>The tier (log2 of the bucket width) for a step range, or 0 when all <paramref name="count"/> points fit.</summary>
    public static int Choose(long count, long fromStep, long toStep, int maxPoints = DefaultMaxPoints)
    {
        if (count <= maxPoints) return 0;
        foreach (var k in Tiers)
            if (((toStep >> k) - (fromStep >> k) + 1) * 5 <= maxPoints) return k;
        return Tiers[^1];
    }

    /// <summary>The tier for a range by its width alone (used before the count in the range is known).</summary>
    public static int ChooseByRange(long fromStep, long toStep, int maxPoints = DefaultMaxPoints) =>
        Choose(long.MaxValue, fromStep, toStep, maxPoints);
}

/// <summary>Downsampling of points held in memory, by the same rule as the stored tiers.</summary>
public static class Downsampler
{
    /// <summary>
    /// The points to draw for <paramref name="points"/> (in step order) within [from, to]: all of them when they fit
    /// in <paramref name="maxPoints"/>, otherwise at most four per bucket (plus a NaN marker where a bucket has NaN, so never more than maxPoints).
    /// </summary>
    public static (int Level, List<SeriesPoint> Points) Downsample(IReadOnlyList<SeriesPoint> points, long fromStep, long toStep, int maxPoints = CurveLevels.DefaultMaxPoints)
    {
        var inRange = 0L;
        foreach (var p in points) if (p.Step >= fromStep && p.Step <= toStep) inRange++;
        var level = CurveLevels.Choose(inRange, fromStep, toStep, maxPoints);
        var output = new List<SeriesPoint>();
        if (level == 0)
        {
            foreach (var p in points) if (p.Step >= fromStep && p.Step <= toStep) output.Add(p);
            return (0, output);
        }
        var bucket = new M4Bucket();
        var current = long.MinValue;
        foreach (var p in points)
        {
            if (p.Step < fromStep || p.Step > toStep) continue;
            var b = p.Step >> level;
            if (b != current)
            {
                if (current != long.MinValue) bucket.EmitTo(output);
                bucket = new M4Bucket();
                current = b;
            }
            bucket.Add(p);
        }
        if (current != long.MinValue) bucket.EmitTo(output);
        return (level, output);
    }
}
