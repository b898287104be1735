using Portal.Training;
using Portal.Training.Recipes;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Portal.Agent.Tests.Training;

/// <summary>Training runs alone: two at once on two cores would only slow each other.</summary>
[CollectionDefinition(nameof(RecipeTrainingTests), DisableParallelization = true)]
public sealed class TimedTrainingCollection;

[Collection(nameof(RecipeTrainingTests))]
public sealed class RecipeTrainingTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("portal-recipe-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public void The_classifier_loss_falls_over_a_few_steps_on_the_cpu()
    {
        const string Config = """{"steps": 40, "batchSize": 32, "trainImages": 512, "valImages": 64, "evalEvery": 40, "checkpointEvery": 40, "width": 8}""";
        using var run = RecipeCatalog.CreateRun(RecipeCatalog.Classifier, Config, seed: 1, CPU);
        var sink = new RecordingSink();

        var result = run.Train(new TrainingOptions(_work), sink, CancellationToken.None);

        var loss = sink.Series("train/loss");
        Assert.Equal(40, loss.Length);
        Assert.True(loss.TakeLast(5).Average() < loss.Take(5).Average() * 0.8, $"loss {loss.Take(5).Average()} -> {loss.TakeLast(5).Average()}");
        Assert.InRange(result.FinalMetrics["accuracy"], 0, 1);
        Assert.Equal(40, result.LastStep);
        Assert.True(File.Exists(result.FinalCheckpointPath));
    }

    [Fact]
    public void The_detector_loss_falls_over_a_few_steps_on_the_cpu()
    {
        const string Config = """{"steps": 30, "batchSize": 16, "trainImages": 256, "valImages": 32, "evalEvery": 30, "checkpointEvery": 30}""";
        using var run = RecipeCatalog.CreateRun(RecipeCatalog.Detector, Config, seed: 3, CPU);
        var sink = new RecordingSink();

        var result = run.Train(new TrainingOptions(_work), sink, CancellationToken.None);

        var loss = sink.Series("train/loss");
        Assert.Equal(30, loss.Length);
        Assert.True(loss.TakeLast(5).Average() < loss.Take(5).Average() * 0.7, $"loss {loss.Take(5).Average()} -> {loss.TakeLast(5).Average()}");
        Assert.Contains("AP50", result.FinalMetrics.Keys);
        Assert.Contains(sink.Points, p => p.Name == "eval/AP" && p.Step == 30);
        // COCOeval's summary; the shapes of 64-pixel images are all small, so the medium and large numbers are
        // COCO's -1 and left out.
        Assert.Equal(["AP", "AP50", "AP75", "APs", "AR1", "AR10", "AR100", "ARs"], result.FinalMetrics.Keys.Order(StringComparer.Ordinal));
        Assert.All(result.FinalMetrics.Values, v => Assert.InRange(v, 0, 1));
    }

    [Fact]
    public void The_detector_AP_rises_visibly_over_400_steps_of_the_default_config()
    {
        // The default detector config, cut to a budget that a test run can afford.
        const string Config = """{"steps": 400, "evalEvery": 100, "checkpointEvery": 400}""";
        using var run = RecipeCatalog.CreateRun(RecipeCatalog.Detector, Config, seed: 7, CPU);
        var sink = new RecordingSink();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var cpuBefore = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;

        var result = run.Train(new TrainingOptions(_work), sink, CancellationToken.None);

        var ap = sink.Series("eval/AP");
        var cpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F0} s wall, {cpu.TotalSeconds:F0} s cpu; AP by eval: {string.Join(", ", ap.Select(v => v.ToString("F3")))}; AP50 {result.FinalMetrics["AP50"]:F3}");
        // Time is reported, not asserted: speed is the benchmarks' business (Portal.Benchmarks cpu-convolutions, training).
        Assert.True(result.FinalMetrics["AP50"] > 0.5, $"final AP50 {result.FinalMetrics["AP50"]}");
        Assert.True(ap[^1] > ap[0] + 0.05, "AP did not rise");
    }
}
