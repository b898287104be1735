using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.Logging;
using Portal.Agent.Outbox;
using Portal.Contracts;

namespace Portal.Agent;

/// <summary>
/// Delivers the outbox to the portal, oldest first, and acknowledges an entry only once the portal answered for
/// it. Points and log lines pending together go as one batch: one call per run and kind (metrics, then log lines),
/// then one acknowledgement (one fsync) for the whole batch, so delivery keeps up with training whatever the mix.
/// <list type="bullet">
/// <item>The portal asks to send again (an ack with a retryable error, a 5xx): the batch stays and goes again after a backoff.</item>
/// <item>The portal refuses for good (an ack with a permanent error, a 4xx): that part is dropped and logged; the portal
/// lists it on the run page.</item>
/// <item>The connection goes away: the batch stays and goes again after reconnecting. Points are stored once
/// however often they arrive.</item>
/// </list>
/// </summary>
internal sealed class OutboxDelivery(DurableOutbox outbox, PortalClient portal, AgentOptions options, Func<bool> isConnected, ILogger logger)
{
    /// <summary>Log lines one batch takes (a few calls' worth).</summary>
    public const int MaxLinesPerBatch = 5 * AgentProtocol.MaxLogLinesPerCall;

    private const int MaxLineLength = 16_000;

    private readonly AsyncSignal _signal = new();

    /// <summary>Something was appended or the connection came back: look at the outbox now.</summary>
    public void Wake() => _signal.Set();

    public async Task RunAsync(CancellationToken token)
    {
        var backoff = new Backoff(options.ReconnectMinDelay, options.ReconnectMaxDelay);
        var failures = 0;
        while (!token.IsCancellationRequested)
        {
            try
            {
                var batch = await NextBatchAsync(token);
                if (batch is null) continue;
                await DeliverAsync(batch, token);
                outbox.Acknowledge(batch[^1].Sequence);
                backoff.Reset();
                failures = 0;
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                break;
            }
            catch (SendAgainException e)
            {
                logger.LogWarning("The portal asks to send again later: {Message}", e.Message);
                await DelayQuietly(backoff.Next(), token);
            }
            catch (HubException e)
            {
                // An unexpected failure in the portal (not a refusal, which comes in an ack): try again a few
                // times, then give up on the entry so that one poisonous entry does not hold back all others.
                failures++;
                var head = outbox.Peek(1).FirstOrDefault();
                if (failures >= options.MaxRefusedAttempts && head is not null)
                {
                    logger.LogError("The portal failed on {Item} {Attempts} times; dropping it: {Message}", head.Item.GetType().Name, failures, e.Message);
                    outbox.Acknowledge(head.Sequence);
                    failures = 0;
                    continue;
                }
                logger.LogWarning("The portal failed on a delivery ({Attempt}/{Max}): {Message}", failures, options.MaxRefusedAttempts, e.Message);
                await DelayQuietly(backoff.Next(), token);
            }
            catch (Exception e)
            {
                // The connection went away mid-delivery: the entries stay pending and go again after reconnecting.
                logger.LogDebug("Delivery interrupted: {Message}", e.Message);
                await DelayQuietly(backoff.Next(), token);
            }
        }
    }

    /// <summary>The next batch to deliver, or null after waiting for something to deliver or for the connection.</summary>
    private async Task<IReadOnlyList<OutboxEntry>?> NextBatchAsync(CancellationToken token)
    {
        var batch = outbox.PeekBatch(AgentProtocol.MaxPointsPerBatch, MaxLinesPerBatch);
        if (batch.Count == 0 || !isConnected())
        {
            await _signal.WaitAsync(TimeSpan.FromSeconds(1), token);
            if (batch.Count == 0) outbox.Sync();
            return null;
        }
        if (batch[0].Item is MetricsItem or LogItem && batch.Count < 50 && options.BatchLinger > TimeSpan.Zero)
        {
            // A few steps' reports arrive within the linger; one batch is cheaper for both sides than many.
            await Task.Delay(options.BatchLinger, token);
            batch = outbox.PeekBatch(AgentProtocol.MaxPointsPerBatch, MaxLinesPerBatch);
        }
        return batch;
    }

    private Task DeliverAsync(IReadOnlyList<OutboxEntry> batch, CancellationToken token) => batch[0].Item switch
    {
        MetricsItem or LogItem => DeliverReportsAsync(batch, token),
        ConfigItem config => UploadConfigAsync(config, token),
        CheckpointItem checkpoint => UploadCheckpointAsync(checkpoint, token),
        EnvironmentItem environment => ReportEnvironmentAsync(environment, token),
        ReportItem report => UploadReportAsync(report, token),
        FinishedItem finished => ReportOutcomeAsync(finished, token),
        _ => Task.CompletedTask,
    };

    /// <summary>
    /// Metrics first: they are stored once however often they are sent, so when a later call fails and the whole
    /// batch goes again, only the calls after the failure can repeat anything.
    /// </summary>
    private async Task DeliverReportsAsync(IReadOnlyList<OutboxEntry> batch, CancellationToken token)
    {
        foreach (var run in batch.Where(e => e.Item is MetricsItem).GroupBy(e => e.Item.RunId))
        {
            var points = run.SelectMany(e => ((MetricsItem)e.Item).Points).ToList();
            foreach (var chunk in points.Chunk(AgentProtocol.MaxPointsPerBatch))
            {
                var ack = await portal.Hub.InvokeAsync<MetricBatchAck>(nameof(IAgentHub.SendMetrics), new MetricBatch(run.Key, run.First().Sequence, chunk), token);
                if (ack.Error is not null)
                {
                    if (ack.Retryable) throw new SendAgainException(ack.Error);
                    logger.LogError("The portal refused {Count} points of run {RunId}; dropping them: {Error}", chunk.Length, run.Key, ack.Error);
                }
                foreach (var rejected in ack.Rejected.Take(5))
                    logger.LogWarning("Run {RunId}: point {Name}@{Step} rejected: {Reason}", run.Key, rejected.Name, rejected.Step, rejected.Reason);
            }
        }
        foreach (var run in batch.Where(e => e.Item is LogItem).GroupBy(e => e.Item.RunId))
        {
            var lines = run.SelectMany(e => ((LogItem)e.Item).Lines).ToList();
            foreach (var chunk in LogChunks(lines))
                Check(await portal.Hub.InvokeAsync<DeliveryAck>(nameof(IAgentHub.AppendLog), new RunLogLines(run.Key, chunk), token), $"{chunk.Length} log lines", run.Key);
        }
    }

    /// <summary>Up to the lines a call may carry, and well below the portal's message size limit.</summary>
    private static IEnumerable<string[]> LogChunks(List<string> lines)
    {
        const int MaxChars = 512 * 1024;
        var chunk = new List<string>();
        var chars = 0;
        foreach (var whole in lines)
        {
            var line = whole.Length <= MaxLineLength ? whole : whole[..MaxLineLength]; // the portal keeps less anyway
            if (chunk.Count > 0 && (chunk.Count == AgentProtocol.MaxLogLinesPerCall || chars + line.Length > MaxChars))
            {
                yield return chunk.ToArray();
                chunk.Clear();
                chars = 0;
            }
            chunk.Add(line);
            chars += line.Length;
        }
        if (chunk.Count > 0) yield return chunk.ToArray();
    }

    private async Task UploadConfigAsync(ConfigItem config, CancellationToken token)
    {
        using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(config.ConfigJson));
        await RefusedIsDroppedAsync(() => portal.UploadAsync(config.RunId, "config", stream, "config.json", null, token), "the config", config.RunId);
    }

    private async Task UploadReportAsync(ReportItem report, CancellationToken token)
    {
        using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(report.ReportJson));
        await RefusedIsDroppedAsync(() => portal.UploadAsync(report.RunId, "differential", stream, "differential.json", null, token), "the differential report", report.RunId);
    }

    private async Task UploadCheckpointAsync(CheckpointItem checkpoint, CancellationToken token)
    {
        if (!File.Exists(checkpoint.Path))
        {
            // Replaced by a newer checkpoint while the portal was away; that one is further down the outbox.
            logger.LogInformation("Checkpoint of run {RunId} at step {Step} is gone; a newer one follows.", checkpoint.RunId, checkpoint.Step);
            return;
        }
        (string Sha256, long Size) uploaded = ("", 0);
        var stored = await RefusedIsDroppedAsync(async () =>
        {
            await using var file = new FileStream(checkpoint.Path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
            uploaded = await portal.UploadAsync(checkpoint.RunId, "checkpoint", file, Path.GetFileName(checkpoint.Path), checkpoint.Step, token);
        }, $"the checkpoint at step {checkpoint.Step}", checkpoint.RunId);
        if (!stored) return;
        var info = new CheckpointInfo(checkpoint.RunId, checkpoint.Step, uploaded.Sha256, uploaded.Size);
        Check(await portal.Hub.InvokeAsync<DeliveryAck>(nameof(IAgentHub.CheckpointSaved), info, token), $"the checkpoint at step {checkpoint.Step}", checkpoint.RunId);
    }

    private async Task ReportEnvironmentAsync(EnvironmentItem environment, CancellationToken token) =>
        Check(await portal.Hub.InvokeAsync<DeliveryAck>(nameof(IAgentHub.ReportEnvironment), new RunEnvironmentReport(environment.RunId, environment.Environment), token),
            "the environment", environment.RunId);

    private async Task ReportOutcomeAsync(FinishedItem finished, CancellationToken token) =>
        Check(await portal.Hub.InvokeAsync<DeliveryAck>(nameof(IAgentHub.RunFinished), finished.Outcome, token), "the outcome", finished.RunId);

    /// <summary>Goes on when delivered or refused for good (logged, dropped); throws to send it again later.</summary>
    private void Check(DeliveryAck ack, string what, long runId)
    {
        if (ack.Error is null) return;
        if (ack.Retryable) throw new SendAgainException(ack.Error);
        logger.LogError("The portal refused {What} of run {RunId}; dropping it: {Error}", what, runId, ack.Error);
    }

    private async Task<bool> RefusedIsDroppedAsync(Func<Task> upload, string what, long runId)
    {
        try
        {
            await upload();
            return true;
        }
        catch (PortalRefusedException e)
        {
            logger.LogError("The portal refused {What} of run {RunId}; dropping it: {Error}", what, runId, e.Message);
            return false;
        }
    }

    private static async Task DelayQuietly(TimeSpan delay, CancellationToken token)
    {
        try { await Task.Delay(delay, token); }
        catch (OperationCanceledException) { }
    }

    /// <summary>The portal could not take a delivery now and asked for it again.</summary>
    private sealed class SendAgainException(string message) : Exception(message);
}
