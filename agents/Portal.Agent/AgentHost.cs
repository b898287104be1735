using System.Collections.Concurrent;
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
/// jobs and trains them. Everything a run reports goes to an on-disk outbox that <see cref="OutboxDelivery"/> sends,
/// so that training goes on while the portal is away and every report arrives once it is back. Start one in-process with
/// <see cref="StartAsync"/>; the agent executable does the same from its command line.
/// </summary>
public sealed class AgentHost : IAsyncDisposable
{
    private readonly AgentOptions _options;
    private readonly ILogger _logger;
    private readonly PortalClient _portal;
    private readonly DurableOutbox _outbox;
    private readonly Device _device;
    private readonly AgentHardware _hardware;
    private readonly Task<NumericCheckReport> _numericCheck;
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _killed = new();
    private readonly OutboxDelivery _delivery;
    private readonly string _instanceId = Guid.NewGuid().ToString("N");
    private readonly AsyncSignal _jobSignal = new();
    private readonly ConcurrentDictionary<long, RunningJob> _jobs = new();
    private readonly List<Task> _loops = [];
    private TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _heartbeatSeconds = 15;
    private int _stopped;

    private AgentHost(AgentOptions options, ILoggerFactory loggerFactory)
    {
        _options = options;
        _logger = loggerFactory.CreateLogger<AgentHost>();
        var libtorch = options.LibTorchPath ?? TorchRuntime.LibTorchFromEnvironment();
        if (libtorch is not null) TorchRuntime.UseLibTorchFrom(libtorch);
        if (options.TorchThreads > 0) set_num_threads(options.TorchThreads);
        CpuKernels.UseAtenConvolutions();
        _device = TorchRuntime.ResolveDevice(options.Device);
        _hardware = HardwareProbe.Describe(_device.type == TorchSharp.DeviceType.CUDA);
        _numericCheck = Task.Run(() => AgentSelfCheck.Run(_device, _logger, options.NumericCheckTamper));
        _outbox = new DurableOutbox(Path.Combine(options.DataDirectory, "outbox"));
        _portal = new PortalClient(options, loggerFactory);
        _delivery = new OutboxDelivery(_outbox, _portal, options, () => IsConnected, _logger);
        _outbox.Appended += _delivery.Wake;
        _portal.Hub.Closed += error =>
        {
            _connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _closed.TrySetResult();
            if (error is not null) _logger.LogWarning("Connection to the portal lost: {Message}", error.Message);
            return Task.CompletedTask;
        };
        _portal.Hub.On(nameof(IAgentClient.JobAvailable), _jobSignal.Set);
        _portal.Hub.On<long>(nameof(IAgentClient.CancelRun), CancelRun);
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
        host._loops.Add(Task.Run(host.ConnectionLoopAsync));
        host._loops.Add(Task.Run(() => host._delivery.RunAsync(host._killed.Token)));
        host._loops.Add(Task.Run(host.HeartbeatLoopAsync));
        host._loops.Add(Task.Run(host.JobLoopAsync));
        return Task.FromResult(host);
    }

    /// <summary>The id the portal gave this agent at its last registration.</summary>
    public long? AgentId { get; private set; }

    public bool IsConnected => _connected.Task.IsCompletedSuccessfully && _portal.IsConnected;

    public AgentHardware Hardware => _hardware;

    /// <summary>The numeric self-check, run at start; an agent whose check failed takes no job.</summary>
    public Task<NumericCheckReport> NumericCheck => _numericCheck;

    /// <summary>Metric points written to the outbox and not yet acknowledged by the portal.</summary>
    public long PendingPoints => _outbox.PendingPoints;

    /// <summary>Outbox entries (points, log lines, uploads, outcomes) not yet delivered.</summary>
    public int PendingItems => _outbox.PendingCount;

    public IReadOnlyCollection<long> RunningRunIds => _jobs.Keys.ToArray();

    /// <summary>Completes when the agent is connected and registered.</summary>
    public Task WaitUntilConnectedAsync(CancellationToken cancellationToken = default) => _connected.Task.WaitAsync(cancellationToken);

    /// <summary>
    /// Graceful stop: takes no more jobs, interrupts running training (the portal sees the run Lost and can resume
    /// it from its last checkpoint), delivers what is pending for up to <paramref name="drainTimeout"/>, disconnects.
    /// </summary>
    public async Task StopAsync(TimeSpan? drainTimeout = null)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1) return;
        await _stopping.CancelAsync();
        await Task.WhenAll(_jobs.Values.Select(j => j.Completion));
        var deadline = DateTime.UtcNow + (drainTimeout ?? TimeSpan.FromSeconds(10));
        while (_outbox.PendingCount > 0 && _portal.IsConnected && DateTime.UtcNow < deadline) await Task.Delay(50);
        await _killed.CancelAsync();
        await ShutDownAsync();
    }

    /// <summary>
    /// Stops at once as a crash would: no more deliveries, no outcome for running runs. What was pending stays in
    /// the outbox under <see cref="AgentOptions.DataDirectory"/>, and an agent started on that folder sends it.
    /// </summary>
    public async Task KillAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1) return;
        await _killed.CancelAsync();
        await _stopping.CancelAsync();
        await ShutDownAsync();
    }

    public ValueTask DisposeAsync() => new(StopAsync());

    private async Task ShutDownAsync()
    {
        foreach (var job in _jobs.Values) await job.Completion;
        try { await Task.WhenAll(_loops); }
        catch (OperationCanceledException) { }
        await _portal.DisposeAsync();
        _outbox.Dispose();
    }

    private async Task ConnectionLoopAsync()
    {
        var backoff = new Backoff(_options.ReconnectMinDelay, _options.ReconnectMaxDelay);
        while (!_killed.IsCancellationRequested)
        {
            try
            {
                _closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                await _portal.Hub.StartAsync(_killed.Token);
                var hello = new AgentHello(_options.Name, _hardware, _options.MaxConcurrentJobs, RunningRunIds.ToList(), typeof(AgentHost).Assembly.GetName().Version?.ToString() ?? "0",
                    InstanceId: _instanceId, NumericCheck: await _numericCheck.WaitAsync(_killed.Token));
                var welcome = await _portal.Hub.InvokeAsync<AgentWelcome>(nameof(IAgentHub.Register), hello, _killed.Token);
                AgentId = welcome.AgentId;
                _heartbeatSeconds = Math.Max(1, welcome.HeartbeatSeconds);
                foreach (var runId in welcome.RunsToCancel) CancelRun(runId);
                backoff.Reset();
                _logger.LogInformation("Registered with {Portal} as agent {AgentId} ({Name}).", _portal.Current, welcome.AgentId, _options.Name);
                _connected.TrySetResult();
                _delivery.Wake();
                _jobSignal.Set();
                await _closed.Task.WaitAsync(_killed.Token);
            }
            catch (OperationCanceledException) when (_killed.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                _logger.LogWarning("Cannot reach the portal at {Portal}: {Message}", _portal.Current, e.Message);
                try { await _portal.Hub.StopAsync(); }
                catch (Exception stopError) { _logger.LogDebug(stopError, "Stopping a half-open connection failed."); }
                // Another instance may be up: the next attempt goes there, with the same outbox.
                if (_portal.MoveToNext()) _logger.LogInformation("Trying the next portal instance, {Portal}", _portal.Current);
            }
            if (_killed.IsCancellationRequested) break;
            try { await Task.Delay(backoff.Next(), _killed.Token); }
            catch (OperationCanceledException) { break; }
        }
    }

    private async Task HeartbeatLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(_heartbeatSeconds), _stopping.Token);
                if (!IsConnected) continue;
                await _portal.Hub.InvokeAsync(nameof(IAgentHub.Heartbeat), new AgentHeartbeat(RunningRunIds.ToList(), _outbox.PendingPoints), _stopping.Token);
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested) { }
            catch (Exception e)
            {
                _logger.LogDebug("Heartbeat not delivered: {Message}", e.Message);
            }
        }
    }

    private async Task JobLoopAsync()
    {
        var token = _stopping.Token;
        var backoff = new Backoff(_options.ReconnectMinDelay, _options.ReconnectMaxDelay);
        while (!token.IsCancellationRequested)
        {
            try
            {
                if (!IsConnected || _jobs.Count >= _options.MaxConcurrentJobs || _numericCheck.Result.Status == NumericCheckStatus.Failed)
                {
                    await _jobSignal.WaitAsync(TimeSpan.FromSeconds(1), token);
                    continue;
                }
                var job = await _portal.Hub.InvokeAsync<JobAssignment?>(nameof(IAgentHub.TakeJob), token);
                backoff.Reset();
                if (job is null)
                {
                    await _jobSignal.WaitAsync(_options.JobPollInterval, token);
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
                _logger.LogDebug("Taking a job failed: {Message}", e.Message);
                await DelayQuietly(backoff.Next(), token);
            }
        }
    }

    private void StartJob(JobAssignment job)
    {
        var runner = new JobRunner(job, _options, _device, _outbox, _portal, _logger, _numericCheck.Result);
        var cancel = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        var running = new RunningJob(cancel);
        _jobs[job.RunId] = running;
        running.Completion = Task.Run(async () =>
        {
            try { await runner.RunAsync(cancel.Token, () => running.CancelledByPortal); }
            finally
            {
                _jobs.TryRemove(job.RunId, out _);
                cancel.Dispose();
                _jobSignal.Set();
            }
        });
    }

    private void CancelRun(long runId)
    {
        if (!_jobs.TryGetValue(runId, out var job)) return;
        _logger.LogInformation("The portal cancelled run {RunId}.", runId);
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
