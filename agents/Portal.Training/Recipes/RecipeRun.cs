using System.Diagnostics;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Portal.Training.Recipes;

/// <summary>Where a run writes its checkpoints, and the checkpoint to continue from, if any.</summary>
public sealed record TrainingOptions(string WorkDirectory, string? ResumeCheckpointPath = null, int KeepCheckpoints = 2);

/// <summary>What a finished run hands back: the final evaluation metrics and the last checkpoint.</summary>
public sealed record TrainingResult(IReadOnlyDictionary<string, double> FinalMetrics, long LastStep, string FinalCheckpointPath);

/// <summary>The run failed for a reason a user can act on (e.g. the loss stayed NaN).</summary>
public sealed class TrainingFailedException(string message) : Exception(message);

/// <summary>
/// One training run of a recipe: owns the model, the optimizer and the data on one device. The shared loop in
/// <see cref="Train"/> handles resume, dispose scopes, non-finite losses, evaluation, checkpoints and cancellation;
/// a recipe supplies the loss of a step and its evaluation.
/// </summary>
public abstract class RecipeRun : IDisposable
{
    private OptimizerHelper? _optimizer;

    protected RecipeRun(string recipe, TrainingConfig config, string configJson, int seed, Device device)
    {
        Recipe = recipe;
        Config = config;
        ConfigJson = configJson;
        Seed = seed;
        Device = device;
    }

    public string Recipe { get; }
    public TrainingConfig Config { get; }
    public string ConfigJson { get; }
    public int Seed { get; }
    public Device Device { get; }

    /// <summary>The last step whose optimizer update finished (0 before the first).</summary>
    public long LastCompletedStep { get; private set; }

    protected abstract nn.Module Model { get; }

    /// <summary>The loss of the batch for <paramref name="step"/> (1-based); called inside a dispose scope.</summary>
    protected abstract Tensor StepLoss(long step);

    /// <summary>Evaluation on the recipe's split, metric names without a prefix (e.g. "AP50").</summary>
    protected abstract IReadOnlyDictionary<string, double> Evaluate();

    protected virtual OptimizerHelper CreateOptimizer() => torch.optim.Adam(Model.parameters(), Config.LearningRate);

    private OptimizerHelper Optimizer => _optimizer ??= CreateOptimizer();

    public TrainingResult Train(TrainingOptions options, ITrainingSink sink, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(options.WorkDirectory);
        long first = 1;
        if (options.ResumeCheckpointPath is { } resume)
        {
            var header = Checkpoint.Load(resume, Model, Optimizer);
            if (header.Recipe != Recipe) throw new TrainingFailedException($"The checkpoint is from recipe '{header.Recipe}', not '{Recipe}'.");
            first = header.Step + 1;
            LastCompletedStep = header.Step;
            sink.Log($"Resumed from the checkpoint at step {header.Step}; continuing at step {first}.");
        }
        else
        {
            sink.Log($"Training {Recipe} for {Config.Steps} steps on {Device.type}, seed {Seed}.");
        }

        var evaluation = (IReadOnlyDictionary<string, double>)new Dictionary<string, double>();
        var nonFinite = 0;
        var stopwatch = Stopwatch.StartNew();
        var lastCheckpoint = options.ResumeCheckpointPath ?? "";
        var points = new List<MetricSample>(8);
        for (var step = first; step <= Config.Steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            points.Clear();
            double lossValue;
            using (NewDisposeScope())
            {
                Model.train();
                var loss = StepLoss(step);
                lossValue = loss.item<float>();
                Optimizer.zero_grad();
                if (double.IsFinite(lossValue))
                {
                    nonFinite = 0;
                    loss.backward();
                    Optimizer.step();
                }
                else
                {
                    // The update is skipped so one bad batch does not poison the weights; the value is still reported.
                    nonFinite++;
                    sink.Log($"Step {step}: the loss is {lossValue}; the update was skipped ({nonFinite} in a row).");
                }
            }
            var now = DateTimeOffset.UtcNow;
            points.Add(new MetricSample("train/loss", step, lossValue, now));
            LastCompletedStep = step;

            if (nonFinite >= Config.MaxNonFiniteSteps)
            {
                sink.ReportMetrics(points.ToArray());
                throw new TrainingFailedException($"The loss was NaN or infinite for {nonFinite} steps in a row (last at step {step}).");
            }

            if (step % Config.LogEvery == 0)
                sink.Log($"Step {step}/{Config.Steps}: loss {lossValue:G5}, {stopwatch.Elapsed.TotalSeconds / (step - first + 1) * 1000:F1} ms/step.");

            var last = step == Config.Steps;
            if (step % Config.EvalEvery == 0 || last)
            {
                evaluation = RunEvaluation();
                foreach (var (name, value) in evaluation) points.Add(new MetricSample("eval/" + name, step, value, DateTimeOffset.UtcNow));
                sink.Log($"Step {step}: " + string.Join(", ", evaluation.Select(kv => $"{kv.Key} {kv.Value:F4}")));
            }
            sink.ReportMetrics(points.ToArray());

            if (step % Config.CheckpointEvery == 0 || last)
            {
                lastCheckpoint = SaveCheckpoint(options, step);
                sink.CheckpointSaved(step, lastCheckpoint);
            }
        }

        if (first > Config.Steps)
        {
            // Resumed from the final checkpoint: nothing left to train, but the final metrics are still owed.
            evaluation = RunEvaluation();
        }
        sink.Log($"Finished at step {LastCompletedStep}.");
        return new TrainingResult(evaluation, LastCompletedStep, lastCheckpoint);
    }

    private IReadOnlyDictionary<string, double> RunEvaluation()
    {
        using var noGrad = torch.no_grad();
        using var scope = NewDisposeScope();
        Model.eval();
        return Evaluate();
    }

    private string SaveCheckpoint(TrainingOptions options, long step)
    {
        var path = Path.Combine(options.WorkDirectory, $"checkpoint-{step:D9}.ckpt");
        Checkpoint.Save(path, new Checkpoint.Header(Recipe, step, Seed, ConfigJson), Model, Optimizer);
        // Older periodic checkpoints are only needed until a newer one exists (the agent uploads each one first).
        foreach (var old in Directory.EnumerateFiles(options.WorkDirectory, "checkpoint-*.ckpt").Order().SkipLast(options.KeepCheckpoints))
            File.Delete(old);
        return path;
    }

    /// <summary>Indices of the batch for a step: a fresh permutation per epoch from (seed, epoch), so a resume sees the same batches.</summary>
    protected long[] BatchIndices(long step, int datasetSize)
    {
        var batch = Math.Min(Config.BatchSize, datasetSize);
        var perEpoch = datasetSize / batch;
        var epoch = (step - 1) / perEpoch;
        var offset = (int)((step - 1) % perEpoch) * batch;
        if (_cachedEpoch != epoch)
        {
            var random = new Random(Data.Seeds.Mix(Seed, 1000, epoch));
            _cachedPermutation = Enumerable.Range(0, datasetSize).Select(i => (long)i).ToArray();
            random.Shuffle(_cachedPermutation);
            _cachedEpoch = epoch;
        }
        return _cachedPermutation.AsSpan(offset, batch).ToArray();
    }

    private long _cachedEpoch = -1;
    private long[] _cachedPermutation = [];

    public void Dispose()
    {
        _optimizer?.Dispose();
        DisposeModelAndData();
        GC.SuppressFinalize(this);
    }

    protected abstract void DisposeModelAndData();
}
