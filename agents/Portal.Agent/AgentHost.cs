using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Portal.Agent.Outbox;
using Portal.Contracts;
using Portal.Training;
using static TorchSharp.torch;

namespace Portal.Agent;

/// <summary>
/// A running agent: keeps a connection to the portal (reconnecting with backoff), registers, heartbeats, takes
/// jobs and trains them, and delivers everything a run reports through an on-disk outbox, so that training goes
/// on while the portal is away and every report arrives once it is back. Start one in-process with
/// <see cref="StartAsync"/>; the agent executable does the same from its command line.
/// </summary>
public sealed class AgentHost : IAsyncDisposable
{
    private readonly AgentOptions options;
    private readonly ILogger logger;
    private readonly PortalClient portal;
    private readonly DurableOutbox outbox;
    private readonly Device device;
    private readonly AgentHardware hardware;
    private readonly CancellationTokenSource stopping = new();
    private readonly CancellationTokenSource killed = new();
    private readonly AsyncSignal outboxSignal = new();
    private readonly AsyncSignal jobSignal = new();
    private readonly ConcurrentDictionary<long, RunningJob> jobs = new();
    private readonly List<Task> loops = [];
    private TaskCompletionSource connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int heartbeatSeconds = 15;
    private int stopped;

    private AgentHost(AgentOptions options, ILoggerFactory loggerFactory)
    {
        this.options = options;
        logger = loggerFactory.CreateLogger<AgentHost>();
        var libtorch = options.LibTorchPath ?? TorchRuntime.LibTorchFromEnvironment();
        if (libtorch is not null) TorchRuntime.UseLibTorchFrom(libtorch);
        if (options.TorchThreads > 0) set_num_threads(options.TorchThreads);
        device = TorchRuntime.ResolveDevice(options.Device);
        hardware = HardwareProbe.Describe(device.type == TorchSharp.DeviceType.CUDA);
        outbox = new DurableOutbox(Path.Combine(options.DataDirectory, "outbox"));
        outbox.Appended += outboxSignal.Set;
        portal = new PortalClient(options, loggerFactory);
        portal.Hub.Closed += error =>
        {
            connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            closed.TrySetResult();
            if (error is not null) logger.LogWarning("Connection to the portal lost: {Message}", error.Message);
            return Task.CompletedTask;
        };
        portal.Hub.On(nameof(IAgentClient.JobAvailable), jobSignal.Set);
        portal.Hub.On<long>(nameof(IAgentClient.CancelRun), CancelRun);
    }

    /// <summary>
    /// Starts an agent and returns at once; it connects in the background and keeps trying while the portal is
    /// unreachable. Throws <see cref="ArgumentException"/> for invalid options.
    /// </summary>
    public static Task<AgentHost> StartAsync(AgentOptions options, ILoggerFactory? loggerFactory = null)
    {
        var errors = options.Check().ToList();
        if (errors.Count > 0) throw new ArgumentException(string.Join(" ", errors), nameof(options));
        Directory.CreateDirectory(options.DataDirectory);
        var host = new AgentHost(options, loggerFactory ?? NullLoggerFactory.Instance);
        host.loops.Add(Task.Run(host.ConnectionLoopAsync));
        host.loops.Add(Task.Run(host.SenderLoopAsync));
        host.loops.Add(Task.Run(host.HeartbeatLoopAsync));
        host.loops.Add(Task.Run(host.JobLoopAsync));
        return Task.FromResult(host);
    }

    /// <summary>The id the portal gave this agent at its last registration.</summary>
    public long? AgentId { get; private set; }

    public bool IsConnected => connected.Task.IsCompletedSuccessfully && portal.IsConnected;

    public AgentHardware Hardware => hardware;

    /// <summary>Metric points written to the outbox and not yet acknowledged by the portal.</summary>
    public long PendingPoints => outbox.PendingPoints;

    /// <summary>Outbox entries (points, log lines, uploads, outcomes) not yet delivered.</summary>
    public int PendingItems => outbox.PendingCount;

    public IReadOnlyCollection<long> RunningRunIds => jobs.Keys.ToArray();

    /// <summary>Completes when the agent is connected and registered.</summary>
    public Task WaitUntilConnectedAsync(CancellationToken cancellationToken = default) => connected.Task.WaitAsync(cancellationToken);

    /// <summary>
    /// Graceful stop: takes no more jobs, interrupts running training (the portal sees the run Lost and can resume
    /// it from its last checkpoint), delivers what is pending for up to <paramref name="drainTimeout"/>, disconnects.
    /// </summary>
    public async Task StopAsync(TimeSpan? drainTimeout = null)
    {
        if (Interlocked.Exchange(ref stopped, 1) == 1) return;
        await stopping.CancelAsync();
        await Task.WhenAll(jobs.Values.Select(j => j.Completion));
        var deadline = DateTime.UtcNow + (drainTimeout ?? TimeSpan.FromSeconds(10));
        while (outbox.PendingCount > 0 && portal.IsConnected && DateTime.UtcNow < deadline) await Task.Delay(50);
        await killed.CancelAsync();
        await ShutDownAsync();
    }

    /// <summary>
    /// Stops at once as a crash would: no more deliveries, no outcome for running runs. What was pending stays in
    /// the outbox under <see cref="AgentOptions.DataDirectory"/>, and an agent started on that folder sends it.
    /// </summary>
    public async Task KillAsync()
    {
        if (Interlocked.Exchange(ref stopped, 1) == 1) return;
        await killed.CancelAsync();
        await stopping.CancelAsync();
        await ShutDownAsync();
    }

    public ValueTask DisposeAsync() => new(StopAsync());

    private async Task ShutDownAsync()
    {
        foreach (var job in jobs.Values) await job.Completion;
        try { await Task.WhenAll(loops); }
        catch (OperationCanceledException) { }
        await portal.DisposeAsync();
        outbox.Dispose();
    }

    private async Task ConnectionLoopAsync()
    {
        var backoff = new Backoff(options.ReconnectMinDelay, options.ReconnectMaxDelay);
        while (!killed.IsCancellationRequested)
        {
            try
            {
                closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                await portal.Hub.StartAsync(killed.Token);
                var hello = new AgentHello(options.Name, hardware, options.MaxConcurrentJobs, RunningRunIds.ToList(), typeof(AgentHost).Assembly.GetName().Version?.ToString() ?? "0");
                var welcome = await portal.Hub.InvokeAsync<AgentWelcome>(nameof(IAgentHub.Register), hello, killed.Token);
                AgentId = welcome.AgentId;
                heartbeatSeconds = Math.Max(1, welcome.HeartbeatSeconds);
                foreach (var runId in welcome.RunsToCancel) CancelRun(runId);
                backoff.Reset();
                logger.LogInformation("Registered with {Portal} as agent {AgentId} ({Name}).", options.PortalUrl, welcome.AgentId, options.Name);
                connected.TrySetResult();
                outboxSignal.Set();
                jobSignal.Set();
                await closed.Task.WaitAsync(killed.Token);
            }
            catch (OperationCanceledException) when (killed.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                logger.LogWarning("Cannot reach the portal at {Portal}: {Message}", options.PortalUrl, e.Message);
                try { await portal.Hub.StopAsync(); }
                catch (Exception stopError) { logger.LogDebug(stopError, "Stopping a half-open connection failed."); }
            }
            if (killed.IsCancellationRequested) break;
            try { await Task.Delay(backoff.Next(), killed.Token); }
            catch (OperationCanceledException) { break; }
        }
    }

    private async Task HeartbeatLoopAsync()
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(heartbeatSeconds), stopping.Token);
                if (!IsConnected) continue;
                await portal.Hub.InvokeAsync(nameof(IAgentHub.Heartbeat), new AgentHeartbeat(RunningRunIds.ToList(), outbox.PendingPoints), stopping.Token);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested) { }
            catch (Exception e)
            {
                logger.LogDebug("Heartbeat not delivered: {Message}", e.Message);
            }
        }
    }

    private async Task SenderLoopAsync()
    {
        var backoff = new Backoff(options.ReconnectMinDelay, options.ReconnectMaxDelay);
        var refusals = 0;
        var token = killed.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                var entries = outbox.Peek(AgentProtocol.MaxPointsPerBatch);
                if (entries.Count == 0 || !IsConnected)
                {
                    await outboxSignal.WaitAsync(TimeSpan.FromSeconds(1), token);
                    if (entries.Count == 0) outbox.Sync();
                    continue;
                }
                if (entries[0].Item is MetricsItem or LogItem && entries.Count < 50 && options.BatchLinger > TimeSpan.Zero)
                {
                    // A few steps' points arrive within the linger; one batch is cheaper for both sides than many.
                    await Task.Delay(options.BatchLinger, token);
                    entries = outbox.Peek(AgentProtocol.MaxPointsPerBatch);
                }
                await DeliverAsync(entries, token);
                outbox.Acknowledge(entries[^1].Sequence);
                backoff.Reset();
                refusals = 0;
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is HubException or PortalRefusedException)
            {
                refusals++;
                var head = outbox.Peek(1).FirstOrDefault();
                if (refusals >= options.MaxRefusedAttempts && head is not null)
                {
                    logger.LogError("The portal refused {Item} {Attempts} times; dropping it: {Message}", head.Item.GetType().Name, refusals, e.Message);
                    outbox.Acknowledge(head.Sequence);
                    refusals = 0;
                    continue;
                }
                logger.LogWarning("The portal refused a delivery ({Attempt}/{Max}): {Message}", refusals, options.MaxRefusedAttempts, e.Message);
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

    private async Task DeliverAsync(IReadOnlyList<OutboxEntry> entries, CancellationToken token)
    {
        var first = entries[0];
        switch (first.Item)
        {
            case MetricsItem:
                var points = entries.SelectMany(e => ((MetricsItem)e.Item).Points).ToList();
                var ack = await portal.Hub.InvokeAsync<MetricBatchAck>(nameof(IAgentHub.SendMetrics), new MetricBatch(first.Item.RunId, first.Sequence, points), token);
                if (ack.Error is not null) logger.LogError("The portal did not store batch {Sequence} of run {RunId}: {Error}", first.Sequence, first.Item.RunId, ack.Error);
                foreach (var rejected in ack.Rejected.Take(5))
                    logger.LogWarning("Run {RunId}: point {Name}@{Step} rejected: {Reason}", first.Item.RunId, rejected.Name, rejected.Step, rejected.Reason);
                break;
            case LogItem:
                var lines = entries.SelectMany(e => ((LogItem)e.Item).Lines).ToList();
                await portal.Hub.InvokeAsync(nameof(IAgentHub.AppendLog), new RunLogLines(first.Item.RunId, lines), token);
                break;
            case ConfigItem config:
                using (var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(config.ConfigJson)))
                    await portal.UploadAsync(config.RunId, "config", stream, "config.json", null, token);
                break;
            case ReportItem report:
                using (var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(report.ReportJson)))
                    await portal.UploadAsync(report.RunId, "differential", stream, "differential.json", null, token);
                break;
            case CheckpointItem checkpoint:
                if (!File.Exists(checkpoint.Path))
                {
                    // Replaced by a newer checkpoint while the portal was away; that one is further down the outbox.
                    logger.LogInformation("Checkpoint of run {RunId} at step {Step} is gone; a newer one follows.", checkpoint.RunId, checkpoint.Step);
                    break;
                }
                (string Sha256, long Size) uploaded;
                await using (var file = new FileStream(checkpoint.Path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete))
                    uploaded = await portal.UploadAsync(checkpoint.RunId, "checkpoint", file, Path.GetFileName(checkpoint.Path), checkpoint.Step, token);
                await portal.Hub.InvokeAsync(nameof(IAgentHub.CheckpointSaved), new CheckpointInfo(checkpoint.RunId, checkpoint.Step, uploaded.Sha256, uploaded.Size), token);
                break;
            case FinishedItem finished:
                await portal.Hub.InvokeAsync(nameof(IAgentHub.RunFinished), finished.Outcome, token);
                break;
        }
    }

    private async Task JobLoopAsync()
    {
        var token = stopping.Token;
        var backoff = new Backoff(options.ReconnectMinDelay, options.ReconnectMaxDelay);
        while (!token.IsCancellationRequested)
        {
            try
            {
                if (!IsConnected || jobs.Count >= options.MaxConcurrentJobs)
                {
                    await jobSignal.WaitAsync(TimeSpan.FromSeconds(1), token);
                    continue;
                }
                var job = await portal.Hub.InvokeAsync<JobAssignment?>(nameof(IAgentHub.TakeJob), token);
                backoff.Reset();
                if (job is null)
                {
                    await jobSignal.WaitAsync(options.JobPollInterval, token);
                    continue;
                }
                StartJob(job);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                logger.LogDebug("Taking a job failed: {Message}", e.Message);
                await DelayQuietly(backoff.Next(), token);
            }
        }
    }

    private void StartJob(JobAssignment job)
    {
        var runner = new JobRunner(job, options, device, outbox, portal, logger);
        var cancel = CancellationTokenSource.CreateLinkedTokenSource(stopping.Token);
        var running = new RunningJob(cancel);
        jobs[job.RunId] = running;
        running.Completion = Task.Run(async () =>
        {
            try { await runner.RunAsync(cancel.Token, () => running.CancelledByPortal); }
            finally
            {
                jobs.TryRemove(job.RunId, out _);
                cancel.Dispose();
                jobSignal.Set();
            }
        });
    }

    private void CancelRun(long runId)
    {
        if (!jobs.TryGetValue(runId, out var job)) return;
        logger.LogInformation("The portal cancelled run {RunId}.", runId);
        job.CancelledByPortal = true;
        try { job.Cancel.Cancel(); }
        catch (ObjectDisposedException) { } // finished meanwhile
    }

    private static async Task DelayQuietly(TimeSpan delay, CancellationToken token)
    {
        try { await Task.Delay(delay, token); }
        catch (OperationCanceledException) { }
    }

    private sealed class RunningJob(CancellationTokenSource cancel)
    {
        public CancellationTokenSource Cancel { get; } = cancel;
        public volatile bool CancelledByPortal;
        public Task Completion { get; set; } = Task.CompletedTask;
    }
}
