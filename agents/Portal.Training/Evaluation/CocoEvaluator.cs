using Portal.Training.Data;

namespace Portal.Training.Evaluation;

/// <summary>
/// A ground-truth object. <paramref name="Area"/> is the object's area for COCO's small/medium/large split (COCO uses
/// the segmentation area); without one it is the box area. A crowd region is never counted as missed, and
/// detections on it are neither hits nor false positives.
/// </summary>
public sealed record GroundTruth(int ImageId, int ClassId, Box Box, bool IsCrowd = false, double? Area = null);

public sealed record Detection(int ImageId, int ClassId, float Score, Box Box);

/// <summary>
/// COCOeval's twelve summary numbers. AP is averaged over the ten IoU thresholds .50:.05:.95, the 101 recall points
/// and the classes with ground truth; AR over the thresholds and classes. Small, medium and large are areas up to
/// 32², between 32² and 96², and from 96² on. A number COCO cannot compute (no ground truth in that area range) is -1,
/// as in COCOeval.
/// </summary>
public sealed record DetectionMetrics(
    double AP, double AP50, double AP75, double APs, double APm, double APl,
    double AR1, double AR10, double AR100, double ARs, double ARm, double ARl)
{
    /// <summary>The metric names in COCOeval's summary order.</summary>
    public static IReadOnlyList<string> Names { get; } = ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"];

    /// <summary>Name and value in COCOeval's summary order (-1 where COCO reports -1).</summary>
    public IReadOnlyList<KeyValuePair<string, double>> Named =>
        Names.Zip<string, double>([AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl]).Select(p => KeyValuePair.Create(p.First, p.Second)).ToArray();
}

/// <summary>
/// Box detection evaluation with pycocotools COCOeval's semantics (bbox, default parameters), summary included.
/// Boxes enter it as COCO's [x, y, w, h] = [x1, y1, x2 - x1, y2 - y1] in double precision. The images are those
/// that carry a ground truth or a detection; the classes those with ground truth (a class without any has no AP and
/// is left out of the means, as COCO's -1 is). Why each rule is as it is: docs/decisions, cocoeval-semantics.
/// </summary>
public static class CocoEvaluator
{
    /// <summary>np.linspace(.5, .95, 10) bit for bit: start + i * step, the last one the stop itself.</summary>
    public static readonly IReadOnlyList<double> IoUThresholds = Linspace(0.5, 0.95, 10);

    /// <summary>np.linspace(0, 1, 101) bit for bit.</summary>
    public static readonly IReadOnlyList<double> RecallThresholds = Linspace(0.0, 1.0, 101);

    /// <summary>COCO's area ranges: all, small, medium, large (bounds inclusive on both sides, as COCOeval compares).</summary>
    private static readonly (double Low, double High)[] AreaRanges = [(0, 1e10), (0, 32 * 32), (32 * 32, 96 * 96), (96 * 96, 1e10)];

    private static readonly int[] MaxDetections = [1, 10, 100];

    /// <summary>np.spacing(1), added to the precision's denominator as COCOeval does.</summary>
    private static readonly double Spacing1 = Math.BitIncrement(1.0) - 1.0;

    public static DetectionMetrics Evaluate(IReadOnlyCollection<GroundTruth> truths, IReadOnlyCollection<Detection> detections)
    {
        var classes = truths.Select(t => t.ClassId).Distinct().Order().ToArray();
        var result = Accumulate(truths, detections, classes, [.. IoUThresholds]);
        const int All = 0, Small = 1, Medium = 2, Large = 3;
        const int One = 0, Ten = 1, Hundred = 2;
        return new DetectionMetrics(
            result.MeanPrecision(t: null, All, Hundred), result.MeanPrecision(t: 0, All, Hundred), result.MeanPrecision(t: 5, All, Hundred),
            result.MeanPrecision(null, Small, Hundred), result.MeanPrecision(null, Medium, Hundred), result.MeanPrecision(null, Large, Hundred),
            result.MeanRecall(All, One), result.MeanRecall(All, Ten), result.MeanRecall(All, Hundred),
            result.MeanRecall(Small, Hundred), result.MeanRecall(Medium, Hundred), result.MeanRecall(Large, Hundred));
    }

    /// <summary>
    /// COCO's AP of one class at one IoU threshold (all areas, 100 detections per image and class): its precision
    /// averaged over the 101 recall points. NaN when the class has no ground truth (COCO's -1).
    /// </summary>
    public static double AveragePrecision(IReadOnlyCollection<GroundTruth> truths, IReadOnlyCollection<Detection> detections, int classId, double iouThreshold)
    {
        var result = Accumulate(truths, detections, [classId], [iouThreshold]);
        var ap = result.MeanPrecision(t: 0, area: 0, maxDet: 2);
        return ap < 0 ? double.NaN : ap;
    }

    private static double[] Linspace(double start, double stop, int count)
    {
        var step = (stop - start) / (count - 1);
        var values = new double[count];
        for (var i = 0; i < count; i++) values[i] = i * step + start;
        values[^1] = stop;
        return values;
    }

    private readonly record struct CocoBox(double X, double Y, double W, double H)
    {
        public static CocoBox From(Box b) => new(b.X1, b.Y1, (double)b.X2 - b.X1, (double)b.Y2 - b.Y1);
        public double Area => W * H;
    }

    /// <summary>COCO's box IoU (maskApi bbIou): for a crowd region the union is the detection's own area.</summary>
    private static double IoU(CocoBox d, CocoBox g, bool crowd)
    {
        var w = Math.Min(d.W + d.X, g.W + g.X) - Math.Max(d.X, g.X);
        if (w <= 0) return 0;
        var h = Math.Min(d.H + d.Y, g.H + g.Y) - Math.Max(d.Y, g.Y);
        if (h <= 0) return 0;
        var i = w * h;
        var u = crowd ? d.Area : d.Area + g.Area - i;
        return i / u;
    }

    /// <summary>One image and class under one area range: COCOeval's evaluateImg result.</summary>
    private sealed record ImageResult(double[] Scores, bool[,] Matched, bool[,] Ignored, int CountedTruths);

    private sealed record Truth(CocoBox Box, bool Crowd, double Area);

    private sealed record Scored(CocoBox Box, double Score);

    private static void Validate(IReadOnlyCollection<GroundTruth> truths, IReadOnlyCollection<Detection> detections)
    {
        static bool Finite(Box b) => float.IsFinite(b.X1) && float.IsFinite(b.Y1) && float.IsFinite(b.X2) && float.IsFinite(b.Y2);
        foreach (var t in truths)
        {
            if (!Finite(t.Box)) throw new ArgumentException($"Ground truth on image {t.ImageId} has a non-finite box {t.Box}.", nameof(truths));
            if (t.Area is { } a && !double.IsFinite(a)) throw new ArgumentException($"Ground truth on image {t.ImageId} has a non-finite area {a}.", nameof(truths));
        }
        foreach (var d in detections)
        {
            if (!Finite(d.Box)) throw new ArgumentException($"A detection on image {d.ImageId} has a non-finite box {d.Box}.", nameof(detections));
            if (!float.IsFinite(d.Score)) throw new ArgumentException($"A detection on image {d.ImageId} has a non-finite score {d.Score}.", nameof(detections));
        }
    }

    private static Accumulated Accumulate(IReadOnlyCollection<GroundTruth> truths, IReadOnlyCollection<Detection> detections, int[] classes, double[] thresholds)
    {
        Validate(truths, detections);
        // COCOeval walks images in ascending id; within an image and class, annotations keep their input order.
        var images = truths.Select(t => t.ImageId).Concat(detections.Select(d => d.ImageId)).Distinct().Order().ToArray();
        var truthsOf = truths.ToLookup(t => (t.ImageId, t.ClassId), t => new Truth(CocoBox.From(t.Box), t.IsCrowd, t.Area ?? CocoBox.From(t.Box).Area));
        var detectionsOf = detections.ToLookup(d => (d.ImageId, d.ClassId), d => new Scored(CocoBox.From(d.Box), d.Score));

        var accumulated = new Accumulated();
        for (var k = 0; k < classes.Length; k++)
        {
            var perArea = new List<ImageResult>[AreaRanges.Length];
            for (var a = 0; a < AreaRanges.Length; a++) perArea[a] = [];
            foreach (var image in images)
            {
                var gts = truthsOf[(image, classes[k])].ToArray();
                var dts = detectionsOf[(image, classes[k])].ToArray();
                if (gts.Length == 0 && dts.Length == 0) continue;
                // Highest score first, equal scores in input order (np.argsort kind='mergesort' is stable), at most 100.
                var sorted = dts.Select((d, i) => (d, i)).OrderByDescending(x => x.d.Score).ThenBy(x => x.i)
                    .Take(MaxDetections[^1]).Select(x => x.d).ToArray();
                var ious = new double[sorted.Length, gts.Length];
                for (var d = 0; d < sorted.Length; d++)
                    for (var g = 0; g < gts.Length; g++)
                        ious[d, g] = IoU(sorted[d].Box, gts[g].Box, gts[g].Crowd);
                for (var a = 0; a < AreaRanges.Length; a++)
                    perArea[a].Add(EvaluateImage(gts, sorted, ious, AreaRanges[a], thresholds));
            }
            for (var a = 0; a < AreaRanges.Length; a++)
                for (var m = 0; m < MaxDetections.Length; m++)
                    if (AccumulateClass(perArea[a], MaxDetections[m], thresholds.Length) is { } curve) accumulated.Add(a, m, curve);
        }
        return accumulated;
    }

    private static ImageResult EvaluateImage(Truth[] gts, Scored[] dts, double[,] ious, (double Low, double High) range, double[] thresholds)
    {
        var ignore = gts.Select(g => g.Crowd || g.Area < range.Low || g.Area > range.High).ToArray();
        // Ground truth that counts first, ignored last, each in input order (a stable sort on the ignore flag).
        var order = Enumerable.Range(0, gts.Length).Where(g => !ignore[g]).Concat(Enumerable.Range(0, gts.Length).Where(g => ignore[g])).ToArray();

        var matched = new bool[thresholds.Length, dts.Length];
        var ignored = new bool[thresholds.Length, dts.Length];
        for (var t = 0; t < thresholds.Length; t++)
        {
            var taken = new bool[gts.Length];
            for (var d = 0; d < dts.Length; d++)
            {
                var best = Math.Min(thresholds[t], 1 - 1e-10);
                var m = -1;
                foreach (var g in order)
                {
                    if (taken[g] && !gts[g].Crowd) continue;
                    // Matched to ground truth that counts: never trade it for an ignored one.
                    if (m > -1 && !ignore[m] && ignore[g]) break;
                    if (ious[d, g] < best) continue;
                    best = ious[d, g];
                    m = g;
                }
                if (m == -1) continue;
                ignored[t, d] = ignore[m];
                matched[t, d] = true;
                taken[m] = true;
            }
        }
        // An unmatched detection outside the area range is ignored, not a false positive.
        for (var d = 0; d < dts.Length; d++)
        {
            var area = dts[d].Box.Area;
            if (area >= range.Low && area <= range.High) continue;
            for (var t = 0; t < thresholds.Length; t++)
                if (!matched[t, d]) ignored[t, d] = true;
        }
        return new ImageResult(dts.Select(d => d.Score).ToArray(), matched, ignored, ignore.Count(i => !i));
    }

    /// <summary>COCOeval's accumulate for one class, area range and detection limit; null where COCO leaves -1.</summary>
    private static ClassCurve? AccumulateClass(List<ImageResult> images, int maxDet, int thresholdCount)
    {
        var countedTruths = images.Sum(e => e.CountedTruths);
        if (countedTruths == 0) return null;

        // The first maxDet of every image (images in ascending id), then all of them by score; equal scores keep
        // that concatenation order, as COCOeval's mergesort does.
        var pool = images.SelectMany(e => Enumerable.Range(0, Math.Min(maxDet, e.Scores.Length)).Select(d => (e, d)))
            .Select((x, i) => (x.e, x.d, i)).OrderByDescending(x => x.e.Scores[x.d]).ThenBy(x => x.i).ToArray();

        var recallThresholds = RecallThresholds;
        var precision = new double[thresholdCount, recallThresholds.Count];
        var recall = new double[thresholdCount];
        for (var t = 0; t < thresholdCount; t++)
        {
            var n = pool.Length;
            var rc = new double[n];
            var pr = new double[n];
            double tp = 0, fp = 0;
            for (var i = 0; i < n; i++)
            {
                var (e, d, _) = pool[i];
                if (!e.Ignored[t, d])
                {
                    if (e.Matched[t, d]) tp++;
                    else fp++;
                }
                rc[i] = tp / countedTruths;
                pr[i] = tp / (fp + tp + Spacing1);
            }
            recall[t] = n > 0 ? rc[n - 1] : 0;
            for (var i = n - 1; i > 0; i--)
                if (pr[i] > pr[i - 1]) pr[i - 1] = pr[i];
            // np.searchsorted(rc, recThrs, side='left'): the first point reaching the recall level; none, precision 0.
            var at = 0;
            for (var r = 0; r < recallThresholds.Count; r++)
            {
                while (at < n && rc[at] < recallThresholds[r]) at++;
                precision[t, r] = at < n ? pr[at] : 0;
            }
        }
        return new ClassCurve(precision, recall);
    }

    /// <summary>One class's precision [threshold, recall point] and final recall [threshold].</summary>
    private sealed record ClassCurve(double[,] Precision, double[] Recall);

    /// <summary>
    /// The curves of the classes COCO computes; a class without counted ground truth has none (COCO's -1) and stays
    /// out of every mean.
    /// </summary>
    private sealed class Accumulated
    {
        private readonly List<(int Area, int MaxDet, ClassCurve Curve)> _curves = [];

        public void Add(int area, int maxDet, ClassCurve curve) => _curves.Add((area, maxDet, curve));

        /// <summary>COCOeval's _summarize for AP: the mean over thresholds (or one), recall points and classes; -1 when empty.</summary>
        public double MeanPrecision(int? t, int area, int maxDet)
        {
            var values = new List<double>();
            foreach (var c in _curves.Where(c => c.Area == area && c.MaxDet == maxDet).Select(c => c.Curve.Precision))
                for (var ti = 0; ti < c.GetLength(0); ti++)
                    if (t is null || t == ti)
                        for (var r = 0; r < c.GetLength(1); r++) values.Add(c[ti, r]);
            return values.Count == 0 ? -1 : values.Average();
        }

        /// <summary>COCOeval's _summarize for AR: the mean over thresholds and classes; -1 when empty.</summary>
        public double MeanRecall(int area, int maxDet)
        {
            var values = _curves.Where(c => c.Area == area && c.MaxDet == maxDet).SelectMany(c => c.Curve.Recall).ToList();
            return values.Count == 0 ? -1 : values.Average();
        }
    }
}
