using Portal.Training.Data;

namespace Portal.Training.Evaluation;

public sealed record GroundTruth(int ImageId, int ClassId, Box Box);

public sealed record Detection(int ImageId, int ClassId, float Score, Box Box);

/// <summary>AP averaged over classes that have ground truth; AP is also averaged over the ten IoU thresholds.</summary>
public sealed record DetectionMetrics(double AP, double AP50, double AP75);

/// <summary>
/// COCO-style average precision: per class and IoU threshold, detections (at most 100 per image, best first)
/// are greedily matched to the unmatched ground truth with the highest IoU at or above the threshold;
/// precision is made monotone and sampled at the 101 recall points 0, 0.01, ..., 1.
/// Classes without ground truth are left out of the mean, as COCO does.
/// </summary>
public static class CocoEvaluator
{
    public static readonly IReadOnlyList<double> IoUThresholds = Enumerable.Range(0, 10).Select(i => 0.5 + 0.05 * i).ToArray();

    public static DetectionMetrics Evaluate(IReadOnlyCollection<GroundTruth> truths, IReadOnlyCollection<Detection> detections, int maxDetectionsPerImage = 100)
    {
        var kept = detections
            .GroupBy(d => d.ImageId)
            .SelectMany(g => g.OrderByDescending(d => d.Score).Take(maxDetectionsPerImage))
            .ToList();
        var classes = truths.Select(t => t.ClassId).Distinct().Order().ToList();
        if (classes.Count == 0) return new DetectionMetrics(0, 0, 0);

        var perThreshold = new double[IoUThresholds.Count];
        for (var t = 0; t < IoUThresholds.Count; t++)
            perThreshold[t] = classes.Average(c => AveragePrecision(truths, kept, c, IoUThresholds[t]));
        return new DetectionMetrics(perThreshold.Average(), perThreshold[0], perThreshold[5]);
    }

    /// <summary>AP of one class at one IoU threshold; NaN when the class has no ground truth.</summary>
    public static double AveragePrecision(IReadOnlyCollection<GroundTruth> truths, IReadOnlyCollection<Detection> detections, int classId, double iouThreshold)
    {
        var classTruths = truths.Where(t => t.ClassId == classId).GroupBy(t => t.ImageId).ToDictionary(g => g.Key, g => g.ToArray());
        var truthCount = classTruths.Values.Sum(v => v.Length);
        if (truthCount == 0) return double.NaN;

        // A stable sort keeps equal scores in input order, so results do not depend on the sort algorithm.
        var ordered = detections.Where(d => d.ClassId == classId)
            .Select((d, i) => (d, i)).OrderByDescending(x => x.d.Score).ThenBy(x => x.i).Select(x => x.d).ToList();
        var matched = classTruths.ToDictionary(kv => kv.Key, kv => new bool[kv.Value.Length]);
        var truePositive = new bool[ordered.Count];
        for (var k = 0; k < ordered.Count; k++)
        {
            var det = ordered[k];
            if (!classTruths.TryGetValue(det.ImageId, out var candidates)) continue;
            var best = -1;
            var bestIoU = Math.Min(iouThreshold, 1 - 1e-10);
            for (var g = 0; g < candidates.Length; g++)
            {
                if (matched[det.ImageId][g]) continue;
                var iou = Box.IoU(candidates[g].Box, det.Box);
                if (iou < bestIoU) continue;
                bestIoU = iou;
                best = g;
            }
            if (best < 0) continue;
            matched[det.ImageId][best] = true;
            truePositive[k] = true;
        }

        var recall = new double[ordered.Count];
        var precision = new double[ordered.Count];
        var tp = 0;
        for (var k = 0; k < ordered.Count; k++)
        {
            if (truePositive[k]) tp++;
            recall[k] = (double)tp / truthCount;
            precision[k] = (double)tp / (k + 1);
        }
        for (var k = ordered.Count - 1; k > 0; k--) precision[k - 1] = Math.Max(precision[k - 1], precision[k]);

        var sum = 0.0;
        for (var r = 0; r <= 100; r++)
        {
            var level = r / 100.0;
            var index = Array.FindIndex(recall, x => x >= level - 1e-12);
            if (index >= 0) sum += precision[index];
        }
        return sum / 101;
    }
}
