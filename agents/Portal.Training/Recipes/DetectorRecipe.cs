using Portal.Training.Data;
using Portal.Training.Evaluation;
using Portal.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Portal.Training.Recipes;

public sealed class DetectorConfig : TrainingConfig
{
    public DetectorConfig()
    {
        Steps = 1500;
        BatchSize = 32;
        LearningRate = 0.003;
        EvalEvery = 100;
        CheckpointEvery = 250;
    }

    public int TrainImages { get; init; } = 2000;
    public int ValImages { get; init; } = 200;
    /// <summary>Square input size in pixels; the grid has one cell per 8 pixels.</summary>
    public int ImageSize { get; init; } = 64;
    /// <summary>Channels of the first backbone stage; later stages double it.</summary>
    public int Width { get; init; } = 16;

    public override IEnumerable<string> Check()
    {
        foreach (var error in base.Check()) yield return error;
        if (TrainImages is < 1 or > 200_000) yield return $"trainImages must be between 1 and 200000 (got {TrainImages}).";
        if (ValImages is < 1 or > 50_000) yield return $"valImages must be between 1 and 50000 (got {ValImages}).";
        if (ImageSize is < 32 or > 256 || ImageSize % 8 != 0) yield return $"imageSize must be a multiple of 8 between 32 and 256 (got {ImageSize}).";
        if (Width is < 4 or > 128) yield return $"width must be between 4 and 128 (got {Width}).";
    }
}

/// <summary>
/// The "detector" recipe: <see cref="TinyYolo"/> on synthetic-shapes, a YOLO-style loss (objectness, box, class),
/// evaluated on the val split by COCOeval's summary (AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl).
/// </summary>
public sealed class DetectorRun : RecipeRun
{
    private const int Stride = 8;
    private const float BoxWeight = 5f;
    private readonly TinyYolo _model;
    private readonly SyntheticShapes _train;
    private readonly SyntheticShapes _val;
    private readonly Tensor _trainImages;
    private readonly Tensor _valImages;
    private readonly (float W, float H)[] _anchors;
    private readonly int _grid;
    private readonly List<Target>[] _trainTargets;

    private readonly record struct Target(int Cell, float Tx, float Ty, float Tw, float Th, int Class);

    public DetectorRun(DetectorConfig config, string configJson, int seed, Device device)
        : base(RecipeCatalog.Detector, config, configJson, seed, device)
    {
        var scale = config.ImageSize / 64f;
        _anchors = [(13 * scale, 13 * scale), (23 * scale, 23 * scale)];
        _grid = config.ImageSize / Stride;
        _train = new SyntheticShapes(seed, "train", config.TrainImages, config.ImageSize);
        _val = new SyntheticShapes(seed, "val", config.ValImages, config.ImageSize);
        // Made on the device: a CPU staging copy moved with .to() would stay behind until the GC finds it.
        _trainImages = Stack(_train, device);
        _valImages = Stack(_val, device);
        _trainTargets = _train.Images.Select(BuildTargets).ToArray();
        torch.manual_seed(seed);
        _model = new TinyYolo(SyntheticShapes.ClassCount, _anchors.Length, config.Width);
        _model.to(device);
    }

    protected override nn.Module Model => _model;

    private static Tensor Stack(SyntheticShapes set, Device device)
    {
        var size = set.ImageSize;
        var all = new float[set.Images.Count * 3 * size * size];
        for (var i = 0; i < set.Images.Count; i++) set.Images[i].Pixels.CopyTo(all, i * 3 * size * size);
        return torch.tensor(all, [set.Images.Count, 3, size, size], device: device);
    }

    private List<Target> BuildTargets(ShapeImage image)
    {
        var targets = new List<Target>();
        foreach (var o in image.Objects)
        {
            var cx = (o.Box.X1 + o.Box.X2) / 2 / Stride;
            var cy = (o.Box.Y1 + o.Box.Y2) / 2 / Stride;
            var gx = Math.Min((int)cx, _grid - 1);
            var gy = Math.Min((int)cy, _grid - 1);
            // The anchor whose shape overlaps the box best (both centred) is responsible for it.
            var best = 0;
            var bestIoU = -1f;
            for (var a = 0; a < _anchors.Length; a++)
            {
                var inter = Math.Min(_anchors[a].W, o.Box.Width) * Math.Min(_anchors[a].H, o.Box.Height);
                var iou = inter / (_anchors[a].W * _anchors[a].H + o.Box.Width * o.Box.Height - inter);
                if (iou > bestIoU) (best, bestIoU) = (a, iou);
            }
            targets.Add(new Target(best * _grid * _grid + gy * _grid + gx, cx - gx, cy - gy,
                MathF.Log(o.Box.Width / _anchors[best].W), MathF.Log(o.Box.Height / _anchors[best].H), (int)o.Kind));
        }
        return targets;
    }

    protected override Tensor StepLoss(long step)
    {
        var indices = BatchIndices(step, _train.Images.Count);
        var batch = indices.Length;
        var cellsPerImage = _anchors.Length * _grid * _grid;
        var objTarget = new float[batch * cellsPerImage];
        var positives = new List<long>();
        var boxTarget = new List<float>();
        var classTarget = new List<long>();
        for (var b = 0; b < batch; b++)
        {
            foreach (var t in _trainTargets[indices[b]])
            {
                var at = b * cellsPerImage + t.Cell;
                if (objTarget[at] == 1) continue; // two objects on one cell and anchor: the first keeps it
                objTarget[at] = 1;
                positives.Add(at);
                boxTarget.AddRange([t.Tx, t.Ty, t.Tw, t.Th]);
                classTarget.Add(t.Class);
            }
        }

        var images = _trainImages.index_select(0, torch.tensor(indices, device: Device));
        var output = _model.call(images).view(batch * cellsPerImage, 5 + SyntheticShapes.ClassCount);
        var objectness = nn.functional.binary_cross_entropy_with_logits(
            output.select(1, 4), torch.tensor(objTarget, device: Device), reduction: nn.Reduction.Sum) / batch;
        if (positives.Count == 0) return objectness;

        var chosen = output.index_select(0, torch.tensor(positives.ToArray(), device: Device));
        var boxes = torch.tensor(boxTarget.ToArray(), [positives.Count, 4], device: Device);
        var xy = nn.functional.mse_loss(chosen.narrow(1, 0, 2).sigmoid(), boxes.narrow(1, 0, 2), nn.Reduction.Sum);
        var wh = nn.functional.mse_loss(chosen.narrow(1, 2, 2), boxes.narrow(1, 2, 2), nn.Reduction.Sum);
        var classes = nn.functional.cross_entropy(chosen.narrow(1, 5, SyntheticShapes.ClassCount),
            torch.tensor(classTarget.ToArray(), device: Device), reduction: nn.Reduction.Sum);
        return objectness + (BoxWeight * (xy + wh) + classes) / batch;
    }

    protected override IReadOnlyDictionary<string, double> Evaluate()
    {
        var truths = new List<GroundTruth>();
        var detections = new List<Detection>();
        for (var i = 0; i < _val.Images.Count; i++)
            foreach (var o in _val.Images[i].Objects) truths.Add(new GroundTruth(i, (int)o.Kind, o.Box));

        const int Chunk = 100;
        for (var start = 0; start < _val.Images.Count; start += Chunk)
        {
            var count = Math.Min(Chunk, _val.Images.Count - start);
            var output = _model.call(_valImages.narrow(0, start, count)).cpu();
            var values = output.data<float>().ToArray();
            for (var i = 0; i < count; i++) detections.AddRange(Decode(values, i, start + i));
        }
        // COCO's -1 (no ground truth in that area range, e.g. no large shapes in small images) is no score: left out.
        return CocoEvaluator.Evaluate(truths, detections).Named.Where(m => m.Value >= 0).ToDictionary();
    }

    /// <summary>Boxes of one image from the raw head output: score = objectness x best class probability, then per-class NMS.</summary>
    private IEnumerable<Detection> Decode(float[] values, int imageInBatch, int imageId)
    {
        var width = 5 + SyntheticShapes.ClassCount;
        var cells = _anchors.Length * _grid * _grid;
        var candidates = new List<Detection>();
        Span<float> probs = stackalloc float[SyntheticShapes.ClassCount];
        for (var cell = 0; cell < cells; cell++)
        {
            var p = (imageInBatch * cells + cell) * width;
            var objectness = Sigmoid(values[p + 4]);
            if (objectness < 0.01f) continue;
            var max = float.NegativeInfinity;
            for (var c = 0; c < probs.Length; c++) max = Math.Max(max, values[p + 5 + c]);
            var sum = 0f;
            var bestClass = 0;
            for (var c = 0; c < probs.Length; c++)
            {
                probs[c] = MathF.Exp(values[p + 5 + c] - max);
                sum += probs[c];
                if (probs[c] > probs[bestClass]) bestClass = c;
            }
            var score = objectness * probs[bestClass] / sum;
            var a = cell / (_grid * _grid);
            var gy = cell % (_grid * _grid) / _grid;
            var gx = cell % _grid;
            var cx = (gx + Sigmoid(values[p])) * Stride;
            var cy = (gy + Sigmoid(values[p + 1])) * Stride;
            var w = _anchors[a].W * MathF.Exp(Math.Clamp(values[p + 2], -4f, 4f));
            var h = _anchors[a].H * MathF.Exp(Math.Clamp(values[p + 3], -4f, 4f));
            candidates.Add(new Detection(imageId, bestClass, score, new Box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)));
        }
        var kept = new List<Detection>();
        foreach (var d in candidates.OrderByDescending(d => d.Score))
            if (!kept.Any(k => k.ClassId == d.ClassId && Box.IoU(k.Box, d.Box) > 0.5f)) kept.Add(d);
        return kept;
    }

    private static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));

    protected override void DisposeModelAndData()
    {
        _model.Dispose();
        _trainImages.Dispose();
        _valImages.Dispose();
    }
}
