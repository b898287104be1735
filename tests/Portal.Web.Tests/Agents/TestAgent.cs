using System.Collections.Concurrent;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Portal.Contracts;
using Portal.Testing;
using Portal.Web.Data;
using Portal.Web.Features.Agents;
using Portal.Web.Features.Runs;
using Portal.Web.Infrastructure;

namespace Portal.Web.Tests.Agents;

/// <summary>
/// A stand-in agent made of the real parts an agent uses: a SignalR client with MessagePack and the agent token as
/// bearer, and an HttpClient for files. It heartbeats on its own until disposed (which is how a test kills it).
/// </summary>
public sealed class TestAgent : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Task? _heartbeats;

    private TestAgent(HubConnection hub, HttpClient http)
    {
        Hub = hub;
        Http = http;
        hub.On<long>(nameof(IAgentClient.CancelRun), id => Cancels.Add(id));
        hub.On(nameof(IAgentClient.JobAvailable), () => Interlocked.Increment(ref _jobAvailable));
    }

    public HubConnection Hub { get; }
    public HttpClient Http { get; }
    public AgentWelcome Welcome { get; private set; } = null!;
    public ConcurrentBag<long> Cancels { get; } = [];
    public List<long> Running { get; } = [];
    private int _jobAvailable;
    public int JobAvailableCount => Volatile.Read(ref _jobAvailable);

    public static HubConnection Connection(Uri server, string token) => new HubConnectionBuilder()
        .WithUrl(new Uri(server, AgentProtocol.HubPath.TrimStart('/')), o => o.AccessTokenProvider = () => Task.FromResult<string?>(token))
        .AddMessagePackProtocol()
        .Build();

    /// <summary>Connects and registers; <paramref name="instanceId"/> stands for the agent process (a new one per connection when null).</summary>
    public static async Task<TestAgent> ConnectAsync(Uri server, string token, string name, IReadOnlyList<long>? running = null, bool heartbeat = true,
        string? instanceId = null, NumericCheckReport? numericCheck = null)
    {
        var hub = Connection(server, token);
        var http = new HttpClient { BaseAddress = server };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var agent = new TestAgent(hub, http);
        await hub.StartAsync();
        agent.Running.AddRange(running ?? []);
        agent.Welcome = await hub.InvokeAsync<AgentWelcome>(nameof(IAgentHub.Register), new AgentHello(name,
            new AgentHardware(2, 8L << 30, null, null, false, "2.10.0", "Linux test"), 1, agent.Running.ToList(), "test",
            instanceId ?? Guid.NewGuid().ToString("N"), numericCheck));
        if (heartbeat) agent._heartbeats = agent.HeartbeatLoopAsync();
        return agent;
    }

    public async Task<JobAssignment?> TakeJobAsync()
    {
        var job = await Hub.InvokeAsync<JobAssignment?>(nameof(IAgentHub.TakeJob));
        if (job is not null) lock (Running) Running.Add(job.RunId);
        return job;
    }

    /// <summary>Takes jobs until the given run comes, finishing other tests' runs on the way (the agent has one slot).</summary>
    public async Task<JobAssignment> TakeJobForAsync(long runId)
    {
        while (true)
        {
            var job = await TakeJobAsync() ?? throw new InvalidOperationException($"Run {runId} was not offered.");
            if (job.RunId == runId) return job;
            await FinishAsync(job.RunId, RunOutcomeStatus.Cancelled, 0);
        }
    }

    public Task<MetricBatchAck> SendAsync(long runId, long sequence, IEnumerable<MetricPointDto> points) =>
        Hub.InvokeAsync<MetricBatchAck>(nameof(IAgentHub.SendMetrics), new MetricBatch(runId, sequence, points.ToList()));

    /// <summary>Reports the outcome; the agent stops listing the run as running only when the portal took it.</summary>
    public async Task<DeliveryAck> FinishAsync(long runId, RunOutcomeStatus status, long lastStep, Dictionary<string, double>? metrics = null, string? error = null)
    {
        var ack = await Hub.InvokeAsync<DeliveryAck>(nameof(IAgentHub.RunFinished), new RunOutcome(runId, status, metrics ?? [], error, lastStep));
        if (ack.Error is null) lock (Running) Running.Remove(runId);
        return ack;
    }

    public Task<DeliveryAck> AppendLogAsync(long runId, params string[] lines) =>
        Hub.InvokeAsync<DeliveryAck>(nameof(IAgentHub.AppendLog), new RunLogLines(runId, lines));

    public static IEnumerable<MetricPointDto> Points(string name, long fromStep, long toStep) =>
        Enumerable.Range(0, (int)(toStep - fromStep + 1)).Select(i => new MetricPointDto(name, fromStep + i, 1.0 / (fromStep + i + 1), DateTimeOffset.UtcNow));

    private async Task HeartbeatLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                List<long> running;
                lock (Running) running = Running.ToList();
                if (Hub.State == HubConnectionState.Connected)
                    await Hub.InvokeAsync(nameof(IAgentHub.Heartbeat), new AgentHeartbeat(running, 0), _stop.Token);
            }
            catch (OperationCanceledException) { return; }
            catch (Exception) when (!_stop.IsCancellationRequested)
            {
                // The connection went away (a test stopped the portal): the next beat tries again.
            }
            try { await Task.Delay(TimeSpan.FromSeconds(Math.Max(1, Welcome.HeartbeatSeconds)) / 2, _stop.Token); }
            catch (OperationCanceledException) { return; }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        if (_heartbeats is not null) await _heartbeats;
        await Hub.DisposeAsync();
        Http.Dispose();
    }
}

/// <summary>Setting up what the agent tests need in a running portal.</summary>
public static class AgentTestData
{
    /// <summary>Stores an agent token the way the admin page does and returns its secret.</summary>
    public static async Task<(long Id, string Secret)> CreateTokenAsync(PortalAppFactory app, string name = "test agents")
    {
        var secret = "test-" + Guid.NewGuid().ToString("N");
        await using var db = await app.DbFactory.CreateDbContextAsync();
        var token = await AgentTokenService.AddAsync(db, name, secret, "test", DateTimeOffset.UtcNow);
        return (token.Id, secret);
    }

    public static async Task<Actor> ActorAsync(PortalAppFactory app, string userName)
    {
        await using var db = await app.DbFactory.CreateDbContextAsync();
        var user = db.Users.Single(u => u.UserName == userName);
        var roles = (from ur in db.UserRoles join r in db.Roles on ur.RoleId equals r.Id where ur.UserId == user.Id select r.Name!).ToHashSet();
        return new Actor(user.Id, user.DisplayName, roles);
    }

    public static async Task<long> ShapesProjectIdAsync(PortalAppFactory app)
    {
        await using var db = await app.DbFactory.CreateDbContextAsync();
        return db.Projects.Single(p => p.Name == DemoShapesProject.ProjectName).Id;
    }

    /// <summary>Queues a run through the run service, as member1 would from the runs page.</summary>
    public static async Task<long> QueueRunAsync(PortalAppFactory app, string configJson = """{"steps": 20}""", string recipe = "detector")
    {
        using var scope = app.Services.CreateScope();
        var runs = scope.ServiceProvider.GetRequiredService<RunService>();
        return await runs.StartAsync(await ActorAsync(app, "member1"), await ShapesProjectIdAsync(app), new StartRunRequest(recipe, configJson, 3, null, null));
    }

    /// <summary>
    /// A run queued on <paramref name="app"/> and taken by an agent connected for it, which stays connected (the run
    /// stays its own). The agent must be the first to ask for a job since the run was queued.
    /// </summary>
    public static async Task<(TestAgent Agent, long RunId)> AgentWithRunAsync(PortalAppFactory app, string agentName)
    {
        var (_, token) = await CreateTokenAsync(app);
        var runId = await QueueRunAsync(app);
        var agent = await TestAgent.ConnectAsync(app.ServerAddress, token, agentName);
        Assert.Equal(runId, (await agent.TakeJobAsync())!.RunId);
        return (agent, runId);
    }

    public static async Task<T> WithRunsAsync<T>(PortalAppFactory app, Func<RunService, Task<T>> action)
    {
        using var scope = app.Services.CreateScope();
        return await action(scope.ServiceProvider.GetRequiredService<RunService>());
    }

    public static Task<Run> RunAsync(PortalAppFactory app, long runId) =>
        app.WithDbAsync(db => Task.FromResult(db.Runs.Single(r => r.Id == runId)));

    public static Task<int> PointCountAsync(PortalAppFactory app, long runId) =>
        app.WithDbAsync(db => Task.FromResult(db.MetricPoints.Count(p => p.RunId == runId)));

    /// <summary>Waits for a condition with a deadline (no fixed sleeps): returns once it holds, fails when time is up.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what, double seconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"Timed out after {seconds} s waiting for: {what}");
            await Task.Delay(50);
        }
    }

    /// <summary>Settings that make the lost-run window short enough for tests.</summary>
    public static void UseFastHeartbeats(PortalAppFactory app)
    {
        app.Settings["Portal:Runs:LostAfterSeconds"] = "2";
        app.Settings["Portal:Runs:HeartbeatSeconds"] = "1";
    }
}
