using Portal.Training.Data;
using Portal.Training.Evaluation;
using Portal.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Portal.Training.Recipes;

public sealed class Yolov4TinyConfig : TrainingConfig
{
    public Yolov4TinyConfig()
    {
        Steps = 2000;
        BatchSize = 16;
        LearningRate = 0.001;
        EvalEvery = 200;
        CheckpointEvery = 200;
    }

    public int TrainImages { get; init; } = 2000;
    public int ValImages { get; init; } = 200;
    /// <summary>Square input size in pixels, a multiple of 32 (the paper's 416 by default).</summary>
    public int ImageSize { get; init; } = 416;

    public override IEnumerable<string> Check()
    {
        foreach (var error in base.Check()) yield return error;
        if (TrainImages is < 1 or > 200_000) yield return $"trainImages must be between 1 and 200000 (got {TrainImages}).";
        if (ValImages is < 1 or > 50_000) yield return $"valImages must be between 1 and 50000 (got {ValImages}).";
        if (ImageSize is < 64 or > 1024 || ImageSize % 32 != 0) yield return $"imageSize must be a multiple of 32 between 64 and 1024 (got {ImageSize}).";
    }
}

/// <summary>
/// The "yolov4-tiny" recipe: <see cref="Yolov4Tiny"/> with <see cref="Yolov4TinyLoss"/> on synthetic-shapes at the
/// configured input size; evaluated by COCO-style AP after decoding both heads and greedy per-class NMS.
/// </summary>
public sealed class Yolov4TinyRun : RecipeRun
{
    private const float ScoreThreshold = 0.01f;
    private const float NmsIoU = 0.45f;
    private readonly Yolov4TinyConfig _config;
    private readonly Yolov4Tiny _model;
    private readonly SyntheticShapes _train;
    private readonly SyntheticShapes _val;

    public Yolov4TinyRun(Yolov4TinyConfig config, string configJson, int seed, Device device)
        : base(RecipeCatalog.Yolov4TinyName, config, configJson, seed, device)
    {
        _config = config;
        _train = new SyntheticShapes(seed, "train", config.TrainImages, config.ImageSize);
        _val = new SyntheticShapes(seed, "val", config.ValImages, config.ImageSize);
        torch.manual_seed(seed);
        _model = new Yolov4Tiny(new Yolov4TinyOptions { Classes = SyntheticShapes.ClassCount });
        _model.to(device);
    }

    protected override nn.Module Model => _model;

    /// <summary>Images are stacked per batch: at 416 pixels the whole training set would not fit in memory.</summary>
    private Tensor Stack(SyntheticShapes set, IReadOnlyList<long> indices)
    {
        var size = set.ImageSize;
        var all = new float[indices.Count * 3 * size * size];
        for (var i = 0; i < indices.Count; i++) set.Images[(int)indices[i]].Pixels.CopyTo(all, i * 3 * size * size);
        return torch.tensor(all, [indices.Count, 3, size, size], device: Device);
    }

    protected override Tensor StepLoss(long step)
    {
        var indices = BatchIndices(step, _train.Images.Count);
        var rows = new List<float>();
        for (var b = 0; b < indices.Length; b++)
            foreach (var o in _train.Images[(int)indices[b]].Objects)
                rows.AddRange([b, (int)o.Kind, o.Box.X1, o.Box.Y1, o.Box.X2, o.Box.Y2]);
        var targets = torch.tensor(rows.ToArray(), [rows.Count / 6, 6], device: Device);
        var outputs = _model.call(Stack(_train, indices));
        return Yolov4TinyLoss.Compute(outputs, targets, _config.ImageSize, SyntheticShapes.ClassCount).Total;
    }

    protected override IReadOnlyDictionary<string, double> Evaluate()
    {
        var truths = new List<GroundTruth>();
        var detections = new List<Detection>();
        for (var i = 0; i < _val.Images.Count; i++)
            foreach (var o in _val.Images[i].Objects) truths.Add(new GroundTruth(i, (int)o.Kind, o.Box));
        const int Chunk = 16;
        for (var start = 0; start < _val.Images.Count; start += Chunk)
        {
            using var scope = NewDisposeScope();
            var count = Math.Min(Chunk, _val.Images.Count - start);
            var outputs = _model.call(Stack(_val, Enumerable.Range(start, count).Select(i => (long)i).ToArray()));
            detections.AddRange(Decode(outputs, start));
        }
        var metrics = CocoEvaluator.Evaluate(truths, detections);
        return new Dictionary<string, double> { ["AP"] = metrics.AP, ["AP50"] = metrics.AP50, ["AP75"] = metrics.AP75 };
    }

    /// <summary>Both heads decoded (scale_x_y, anchors), score = objectness x class probability (logistic), then greedy NMS per class.</summary>
    public static IEnumerable<Detection> Decode((Tensor Stride32, Tensor Stride16) outputs, int firstImageId, int classes = SyntheticShapes.ClassCount)
    {
        var candidates = new List<Detection>();
        var inputSize = (int)outputs.Stride32.shape[2] * 32;
        var anchors = Yolov4Tiny.AnchorsFor(inputSize);
        foreach (var (raw, mask, stride) in new[] { (outputs.Stride32, Yolov4Tiny.Mask32, 32), (outputs.Stride16, Yolov4Tiny.Mask16, 16) })
        {
            var p = Yolov4TinyLoss.PerAnchor(raw, classes);
            var boxes = Yolov4TinyLoss.DecodeBoxes(p, anchors, mask, stride).cpu().reshape(raw.shape[0], -1, 4).data<float>().ToArray();
            var scores = (p.narrow(-1, 4, 1).sigmoid() * p.narrow(-1, 5, classes).sigmoid()).cpu().reshape(raw.shape[0], -1, classes).data<float>().ToArray();
            var perImage = boxes.Length / 4 / (int)raw.shape[0];
            for (var img = 0; img < raw.shape[0]; img++)
                for (var cell = 0; cell < perImage; cell++)
                {
                    var at = img * perImage + cell;
                    for (var c = 0; c < classes; c++)
                    {
                        var score = scores[at * classes + c];
                        if (score < ScoreThreshold) continue;
                        var box = new Box(boxes[at * 4], boxes[at * 4 + 1], boxes[at * 4 + 2], boxes[at * 4 + 3]);
                        candidates.Add(new Detection(firstImageId + img, c, score, box));
                    }
                }
        }
        var kept = new List<Detection>();
        foreach (var group in candidates.GroupBy(d => (d.ImageId, d.ClassId)))
        {
            var mine = new List<Detection>();
            foreach (var d in group.OrderByDescending(d => d.Score))
                if (!mine.Any(k => Box.IoU(k.Box, d.Box) > NmsIoU)) mine.Add(d);
            kept.AddRange(mine);
        }
        return kept;
    }

    protected override void DisposeModelAndData() => _model.Dispose();
}
