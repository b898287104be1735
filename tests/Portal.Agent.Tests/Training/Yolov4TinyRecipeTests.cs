using Portal.Training.Recipes;
using Xunit;
using static TorchSharp.torch;

namespace Portal.Agent.Tests.Training;

public sealed class Yolov4TinyRecipeTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("portal-yolov4-tiny-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public void The_yolov4_tiny_recipe_trains_at_a_small_input_size_and_reports_COCO_AP()
    {
        const string Config = """{"steps": 6, "batchSize": 4, "trainImages": 24, "valImages": 8, "imageSize": 96, "evalEvery": 6, "checkpointEvery": 6, "learningRate": 0.001}""";
        using var run = RecipeCatalog.CreateRun(RecipeCatalog.Yolov4TinyName, Config, seed: 5, CPU);
        var sink = new RecordingSink();

        var result = run.Train(new TrainingOptions(_work), sink, CancellationToken.None);

        var loss = sink.Series("train/loss");
        Assert.Equal(6, loss.Length);
        Assert.All(loss, l => Assert.True(double.IsFinite(l) && l > 0, $"loss {l}"));
        Assert.True(loss[^1] < loss[0], $"loss {loss[0]} -> {loss[^1]}");
        Assert.InRange(result.FinalMetrics["AP50"], 0, 1);
        Assert.Contains(sink.Points, p => p.Name == "eval/AP" && p.Step == 6);
    }

    [Fact]
    public void The_yolov4_tiny_config_defaults_to_the_papers_416_pixels_and_refuses_a_size_off_the_stride()
    {
        Assert.Contains("\"imageSize\": 416", RecipeCatalog.Find(RecipeCatalog.Yolov4TinyName)!.DefaultConfigJson);
        Assert.Contains(RecipeCatalog.Validate(RecipeCatalog.Yolov4TinyName, """{"imageSize": 100}"""), e => e.Contains("multiple of 32"));
    }
}
