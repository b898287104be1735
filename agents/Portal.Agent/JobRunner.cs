using Microsoft.Extensions.Logging;
using Portal.Agent.Outbox;
using Portal.Contracts;
using Portal.Training;
using Portal.Training.Differential;
using Portal.Training.Recipes;
using static TorchSharp.torch;

namespace Portal.Agent;

/// <summary>
/// Trains one job: checks its config, fetches the checkpoint to resume from, runs the recipe on a dedicated
/// thread, and puts every report and the outcome in the outbox. Never throws: whatever goes wrong ends as a
/// Failed outcome with a reason, and the agent goes on.
/// </summary>
internal sealed class JobRunner(JobAssignment job, AgentOptions options, Device device, DurableOutbox outbox, PortalClient portal, ILogger logger, NumericCheckReport? numericCheck = null)
{
    public async Task RunAsync(CancellationToken cancellationToken, Func<bool> cancelledByPortal)
    {
        var sink = new OutboxSink(job.RunId, outbox, logger);
        long lastStep = job.ResumeFromStep ?? 0;
        RecipeRun? run = null;
        try
        {
            var errors = RecipeCatalog.Validate(job.Recipe, job.ConfigJson);
            if (errors.Count > 0)
            {
                Finish(RunOutcomeStatus.Failed, new Dictionary<string, double>(), "The config was refused: " + string.Join(" ", errors), lastStep);
                return;
            }
            outbox.Append(new EnvironmentItem(job.RunId, EnvironmentProbe.Describe(device, numericCheck)));
            var workDirectory = Path.Combine(options.DataDirectory, "runs", job.RunId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Directory.CreateDirectory(workDirectory);
            string? resumeFrom = null;
            if (job.ResumeFromStep is { } step)
            {
                resumeFrom = Path.Combine(workDirectory, $"resume-{step:D9}.ckpt");
                await DownloadWithRetryAsync(resumeFrom, cancellationToken);
                var header = Checkpoint.ReadHeader(resumeFrom);
                if (header.Step != step) sink.Log($"The portal's latest checkpoint is at step {header.Step}, not {step}; resuming from {header.Step}.");
            }
            else
            {
                outbox.Append(new ConfigItem(job.RunId, job.ConfigJson));
            }

            if (job.Recipe == DifferentialJob.JobType)
            {
                await RunDifferentialAsync(sink, workDirectory, cancellationToken);
                return;
            }

            logger.LogInformation("Run {RunId}: training {Recipe} on {Device}.", job.RunId, job.Recipe, device.type);
            var result = await Task.Factory.StartNew(() =>
            {
                run = RecipeCatalog.CreateRun(job.Recipe, job.ConfigJson, job.Seed, device);
                return run.Train(new TrainingOptions(workDirectory, resumeFrom), sink, cancellationToken);
            }, cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            Finish(RunOutcomeStatus.Succeeded, result.FinalMetrics, null, result.LastStep);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            lastStep = run?.LastCompletedStep ?? lastStep;
            if (cancelledByPortal())
            {
                sink.Log($"Cancelled at step {lastStep}.");
                Finish(RunOutcomeStatus.Cancelled, new Dictionary<string, double>(), null, lastStep);
            }
            else
            {
                // The agent is stopping: the run is not over. The portal sees it Lost and can resume it from its last checkpoint.
                logger.LogWarning("Run {RunId} interrupted at step {Step} because the agent is stopping.", job.RunId, lastStep);
            }
        }
        catch (Exception e)
        {
            lastStep = run?.LastCompletedStep ?? lastStep;
            var reason = e is TrainingFailedException or PortalRefusedException or InvalidDataException or DifferentialException ? e.Message : $"{e.GetType().Name}: {e.Message}";
            logger.LogError(e, "Run {RunId} failed at step {Step}.", job.RunId, lastStep);
            sink.Log($"Failed at step {lastStep}: {reason}");
            Finish(RunOutcomeStatus.Failed, new Dictionary<string, double>(), reason, lastStep);
        }
        finally
        {
            run?.Dispose();
        }
    }

    /// <summary>
    /// A differential job: the reference script runs here (the agent has PyTorch), then the comparison; the report goes
    /// up as an artifact before the outcome. A divergence is a finished run whose "passed" metric is 0; a reference
    /// that cannot be used fails the run, so it is never recorded as passed.
    /// </summary>
    private async Task RunDifferentialAsync(OutboxSink sink, string workDirectory, CancellationToken cancellationToken)
    {
        var config = DifferentialJob.ParseConfig(job.ConfigJson);
        sink.Log($"Writing the PyTorch reference ({config.Recipe}, input {config.InputSize}, batch {config.Batch}, seed {config.ReferenceSeed}) with {options.Python}.");
        var report = await Task.Factory.StartNew(() => DifferentialJob.Run(options.Python, config, workDirectory, cancellationToken),
            cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        sink.Log(report.Passed
            ? $"All {report.Layers.Count} tensors within tolerance (loss {report.Loss:G9}, reference {report.ReferenceLoss:G9})."
            : $"{report.Layers.Count(l => !l.Passed)} of {report.Layers.Count} tensors out of tolerance; first diverging: {report.FirstDivergingLayer}. {report.LikelyCause}");
        outbox.Append(new ReportItem(job.RunId, ReportFormat.ToJson(report)));
        Finish(RunOutcomeStatus.Succeeded, DifferentialJob.Metrics(report), null, 0);
    }

    private void Finish(RunOutcomeStatus status, IReadOnlyDictionary<string, double> metrics, string? error, long lastStep) =>
        outbox.Append(new FinishedItem(job.RunId, new RunOutcome(job.RunId, status, metrics, error, lastStep)));

    private async Task DownloadWithRetryAsync(string path, CancellationToken cancellationToken)
    {
        var backoff = new Backoff(options.ReconnectMinDelay, options.ReconnectMaxDelay);
        while (true)
        {
            try
            {
                await portal.DownloadCheckpointAsync(job.RunId, path, cancellationToken);
                return;
            }
            catch (Exception e) when (e is HttpRequestException or IOException)
            {
                logger.LogWarning("Run {RunId}: checkpoint download failed, retrying: {Message}", job.RunId, e.Message);
                await Task.Delay(backoff.Next(), cancellationToken);
            }
        }
    }

    /// <summary>Turns a run's reports into outbox entries (and log lines into the agent's own log too).</summary>
    private sealed class OutboxSink(long runId, DurableOutbox outbox, ILogger logger) : ITrainingSink
    {
        public void ReportMetrics(IReadOnlyList<MetricSample> points) =>
            outbox.Append(new MetricsItem(runId, points.Select(p => new MetricPointDto(p.Name, p.Step, p.Value, p.WallTime)).ToArray()));

        public void Log(string line)
        {
            logger.LogInformation("Run {RunId}: {Line}", runId, line);
            outbox.Append(new LogItem(runId, [line]));
        }

        public void CheckpointSaved(long step, string path) => outbox.Append(new CheckpointItem(runId, step, path));
    }
}
