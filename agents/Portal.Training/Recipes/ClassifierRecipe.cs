using Portal.Training.Data;
using Portal.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Portal.Training.Recipes;

public sealed class ClassifierConfig : TrainingConfig
{
    public ClassifierConfig()
    {
        Steps = 600;
        BatchSize = 64;
        LearningRate = 0.003;
        EvalEvery = 100;
        CheckpointEvery = 200;
    }

    public int TrainImages { get; init; } = 4000;
    public int ValImages { get; init; } = 500;
    public int ImageSize { get; init; } = 32;
    public int Width { get; init; } = 16;

    public override IEnumerable<string> Check()
    {
        foreach (var error in base.Check()) yield return error;
        if (TrainImages is < 1 or > 500_000) yield return $"trainImages must be between 1 and 500000 (got {TrainImages}).";
        if (ValImages is < 1 or > 100_000) yield return $"valImages must be between 1 and 100000 (got {ValImages}).";
        if (ImageSize is < 16 or > 256) yield return $"imageSize must be between 16 and 256 (got {ImageSize}).";
        if (Width is < 4 or > 256) yield return $"width must be between 4 and 256 (got {Width}).";
    }
}

/// <summary>The "classifier" recipe: <see cref="SmallResNet"/> on synthetic-classes, cross-entropy, accuracy on val.</summary>
public sealed class ClassifierRun : RecipeRun
{
    private readonly SmallResNet _model;
    private readonly Tensor _trainImages;
    private readonly Tensor _trainLabels;
    private readonly Tensor _valImages;
    private readonly Tensor _valLabels;
    private readonly int _trainCount;

    public ClassifierRun(ClassifierConfig config, string configJson, int seed, Device device)
        : base(RecipeCatalog.Classifier, config, configJson, seed, device)
    {
        var train = new SyntheticClasses(seed, "train", config.TrainImages, config.ImageSize);
        var val = new SyntheticClasses(seed, "val", config.ValImages, config.ImageSize);
        _trainCount = train.Count;
        // Made on the device: a CPU staging copy moved with .to() would stay behind until the GC finds it.
        _trainImages = torch.tensor(train.Pixels, [train.Count, 3, config.ImageSize, config.ImageSize], device: device);
        _trainLabels = torch.tensor(train.Labels, device: device);
        _valImages = torch.tensor(val.Pixels, [val.Count, 3, config.ImageSize, config.ImageSize], device: device);
        _valLabels = torch.tensor(val.Labels, device: device);
        torch.manual_seed(seed);
        _model = new SmallResNet(SyntheticClasses.ClassCount, config.Width);
        _model.to(device);
    }

    protected override nn.Module Model => _model;

    protected override Tensor StepLoss(long step)
    {
        var indices = torch.tensor(BatchIndices(step, _trainCount), device: Device);
        var logits = _model.call(_trainImages.index_select(0, indices));
        return nn.functional.cross_entropy(logits, _trainLabels.index_select(0, indices));
    }

    protected override IReadOnlyDictionary<string, double> Evaluate()
    {
        long correct = 0;
        double lossSum = 0;
        var count = _valImages.shape[0];
        for (long start = 0; start < count; start += 250)
        {
            var n = Math.Min(250, count - start);
            var logits = _model.call(_valImages.narrow(0, start, n));
            var labels = _valLabels.narrow(0, start, n);
            lossSum += nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.Sum).item<float>();
            correct += logits.argmax(1).eq(labels).sum().item<long>();
        }
        return new Dictionary<string, double> { ["accuracy"] = (double)correct / count, ["loss"] = lossSum / count };
    }

    protected override void DisposeModelAndData()
    {
        _model.Dispose();
        _trainImages.Dispose(); _trainLabels.Dispose(); _valImages.Dispose(); _valLabels.Dispose();
    }
}
