using System.Text.Json;
using static TorchSharp.torch;

namespace Portal.Training.Recipes;

/// <summary>A recipe as the portal shows it: its name, what it trains, the config it starts from, and where it is evaluated.</summary>
public sealed record RecipeInfo(
    string Name,
    string Description,
    string Dataset,
    string Split,
    string DefaultConfigJson,
    IReadOnlyList<string> FinalMetrics);

/// <summary>
/// The recipes agents can run. <see cref="Validate"/> is the one config check: the portal calls it before it
/// queues a job, and the agent calls it again before it trains. It needs no native libtorch.
/// </summary>
public static class RecipeCatalog
{
    public const string Detector = "detector";
    public const string Classifier = "classifier";
    public const string Yolov4TinyName = "yolov4-tiny";

    public static IReadOnlyList<RecipeInfo> All { get; } =
    [
        new(Detector,
            "A small YOLO-style one-stage detector (conv backbone, anchor grid head, objectness/box/class loss) on synthetic shapes; COCOeval's AP and AR summary.",
            Data.SyntheticShapes.DatasetName, "val",
            JsonSerializer.Serialize(new DetectorConfig(), ConfigJson.Options), [.. Evaluation.DetectionMetrics.Names]),
        new(Classifier,
            "A small ResNet-style classifier (three residual blocks) on synthetic shape classes; accuracy.",
            Data.SyntheticClasses.DatasetName, "val",
            JsonSerializer.Serialize(new ClassifierConfig(), ConfigJson.Options), ["accuracy", "loss"]),
        new(Yolov4TinyName,
            "YOLOv4-tiny (CSP tiny backbone, YOLO heads at strides 32 and 16, CIoU/objectness/class loss) on synthetic shapes at 416 pixels; COCO-style AP. Checked layer by layer against its PyTorch reference by a differential run.",
            Data.SyntheticShapes.DatasetName, "val",
            JsonSerializer.Serialize(new Yolov4TinyConfig(), ConfigJson.Options), ["AP", "AP50", "AP75"]),
        new(Differential.DifferentialJob.JobType,
            "Differential test of yolov4-tiny: the agent runs the PyTorch reference, loads its weights through the checked name mapping, and compares every layer output, the loss and every gradient.",
            "reference inputs", "fixed",
            JsonSerializer.Serialize(new Differential.DifferentialConfig(), ConfigJson.Options), ["passed", "tensors", "outOfTolerance"]),
    ];

    public static RecipeInfo? Find(string recipe) => All.FirstOrDefault(r => r.Name == recipe);

    /// <summary>Reasons the config is refused for the recipe; empty when it is valid. An empty config means the defaults.</summary>
    public static IReadOnlyList<string> Validate(string recipe, string? configJson) => recipe switch
    {
        Detector => ConfigJson.Parse<DetectorConfig>(configJson).Errors,
        Classifier => ConfigJson.Parse<ClassifierConfig>(configJson).Errors,
        Yolov4TinyName => ConfigJson.Parse<Yolov4TinyConfig>(configJson).Errors,
        Differential.DifferentialJob.JobType => ConfigJson.Parse<Differential.DifferentialConfig>(configJson).Errors,
        _ => [$"Unknown recipe '{recipe}'. Known recipes: {string.Join(", ", All.Select(r => r.Name))}."],
    };

    /// <summary>Builds a run (data generated, model initialised from the seed) on the device; throws when the config is invalid.</summary>
    public static RecipeRun CreateRun(string recipe, string? configJson, int seed, Device device)
    {
        var errors = Validate(recipe, configJson);
        if (errors.Count > 0) throw new ArgumentException(string.Join(" ", errors), nameof(configJson));
        if (recipe == Differential.DifferentialJob.JobType) throw new ArgumentException("A differential job is not a training run: use DifferentialJob.Run.", nameof(recipe));
        var json = string.IsNullOrWhiteSpace(configJson) ? "{}" : configJson;
        CpuKernels.UseAtenConvolutions();
        return recipe switch
        {
            Detector => new DetectorRun(ConfigJson.Parse<DetectorConfig>(json).Config!, json, seed, device),
            Yolov4TinyName => new Yolov4TinyRun(ConfigJson.Parse<Yolov4TinyConfig>(json).Config!, json, seed, device),
            _ => new ClassifierRun(ConfigJson.Parse<ClassifierConfig>(json).Config!, json, seed, device),
        };
    }
}
