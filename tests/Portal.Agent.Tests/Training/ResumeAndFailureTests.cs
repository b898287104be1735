using Portal.Training;
using Portal.Training.Recipes;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Portal.Agent.Tests.Training;

public sealed class ResumeAndFailureTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("portal-resume-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Theory]
    [InlineData("classifier", """{"steps": 12, "batchSize": 16, "trainImages": 128, "valImages": 32, "checkpointEvery": 6, "evalEvery": 12, "width": 8}""")]
    [InlineData("detector", """{"steps": 12, "batchSize": 8, "trainImages": 64, "valImages": 16, "checkpointEvery": 6, "evalEvery": 12, "width": 8}""")]
    public void Resuming_from_a_checkpoint_continues_exactly_as_the_uninterrupted_run(string recipe, string config)
    {
        var straight = new RecordingSink();
        using (var run = RecipeCatalog.CreateRun(recipe, config, 5, CPU))
            run.Train(new TrainingOptions(Path.Combine(_work, "a")), straight, CancellationToken.None);
        var midway = straight.Checkpoints.Single(c => c.Step == 6).Path;

        var resumed = new RecordingSink();
        TrainingResult result;
        using (var run = RecipeCatalog.CreateRun(recipe, config, 5, CPU))
            result = run.Train(new TrainingOptions(Path.Combine(_work, "b"), midway), resumed, CancellationToken.None);

        Assert.Equal(Enumerable.Range(7, 6).Select(i => (long)i), resumed.Points.Where(p => p.Name == "train/loss").Select(p => p.Step));
        var expected = straight.Series("train/loss")[6..];
        var actual = resumed.Series("train/loss");
        for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 4);
        Assert.Equal(12, result.LastStep);
    }

    [Fact]
    public void A_nan_loss_is_reported_and_skipped_and_the_run_goes_on()
    {
        using var run = new ScriptedLossRun(nanSteps: [3, 4], maxNonFinite: 5);
        var sink = new RecordingSink();

        var result = run.Train(new TrainingOptions(_work), sink, CancellationToken.None);

        var loss = sink.Series("train/loss");
        Assert.Equal(8, loss.Length);
        Assert.True(double.IsNaN(loss[2]) && double.IsNaN(loss[3]));
        Assert.True(double.IsFinite(loss[4]));
        Assert.Contains(sink.Lines, l => l.Contains("Step 3") && l.Contains("NaN"));
        Assert.Equal(8, result.LastStep);
    }

    [Fact]
    public void A_loss_that_stays_nan_fails_the_run_with_a_reason()
    {
        using var run = new ScriptedLossRun(nanSteps: [2, 3, 4, 5, 6, 7, 8], maxNonFinite: 3);
        var sink = new RecordingSink();

        var e = Assert.Throws<TrainingFailedException>(() => run.Train(new TrainingOptions(_work), sink, CancellationToken.None));

        Assert.Contains("3 steps in a row", e.Message);
        Assert.Equal(4, run.LastCompletedStep);
    }

    [Fact]
    public void Cancellation_stops_the_run_between_steps()
    {
        using var cancel = new CancellationTokenSource();
        using var run = new ScriptedLossRun(nanSteps: [], maxNonFinite: 3, onStep: s => { if (s == 5) cancel.Cancel(); });

        Assert.Throws<OperationCanceledException>(() => run.Train(new TrainingOptions(_work), new RecordingSink(), cancel.Token));

        Assert.Equal(5, run.LastCompletedStep);
    }

    /// <summary>A one-weight regression whose loss is NaN on chosen steps.</summary>
    private sealed class ScriptedLossRun(long[] nanSteps, int maxNonFinite, Action<long>? onStep = null)
        : RecipeRun("scripted", new TrainingConfig { Steps = 8, EvalEvery = 100, CheckpointEvery = 100, MaxNonFiniteSteps = maxNonFinite, LearningRate = 0.1 }, "{}", 1, CPU)
    {
        private readonly TorchSharp.Modules.Linear _model = nn.Linear(1, 1);

        protected override nn.Module Model => _model;

        protected override Tensor StepLoss(long step)
        {
            onStep?.Invoke(step);
            var x = torch.ones(4, 1);
            var loss = _model.call(x).sub(3).pow(2).mean();
            return nanSteps.Contains(step) ? loss * double.NaN : loss;
        }

        protected override IReadOnlyDictionary<string, double> Evaluate() => new Dictionary<string, double> { ["weight"] = _model.weight!.item<float>() };

        protected override void DisposeModelAndData() => _model.Dispose();
    }
}
