using Portal.Contracts;
using Xunit;

namespace Portal.Agent.Tests.Agent;

public sealed class AgentHostTests : IAsyncLifetime
{
    private readonly string _data = Directory.CreateTempSubdirectory("portal-agent-").FullName;
    private readonly TestPortal _portal = new();

    public Task InitializeAsync() => _portal.StartAsync();

    public async Task DisposeAsync()
    {
        await _portal.DisposeAsync();
        Directory.Delete(_data, recursive: true);
    }

    private AgentOptions Options() => new()
    {
        PortalUrl = _portal.Url, Token = "test-token", Name = "test-agent", DataDirectory = _data, Device = "cpu",
        ReconnectMinDelay = TimeSpan.FromMilliseconds(100), ReconnectMaxDelay = TimeSpan.FromMilliseconds(500),
        JobPollInterval = TimeSpan.FromMilliseconds(200), BatchLinger = TimeSpan.FromMilliseconds(20),
    };

    private const string SmallClassifier = """{"steps": 60, "batchSize": 16, "trainImages": 256, "valImages": 32, "evalEvery": 30, "checkpointEvery": 20, "width": 8}""";

    private static async Task Until(Func<bool> condition, string what, int seconds = 90)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Timed out waiting for {what}.");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task An_agent_registers_trains_a_job_and_delivers_every_point_checkpoint_and_the_outcome()
    {
        _portal.Data.Queue.Enqueue(new JobAssignment(7, "classifier", SmallClassifier, 1, null));
        await using var agent = await AgentHost.StartAsync(Options());

        await Until(() => _portal.Data.Outcomes.ContainsKey(7), "the outcome");

        var outcome = _portal.Data.Outcomes[7];
        Assert.Equal(RunOutcomeStatus.Succeeded, outcome.Status);
        Assert.Equal(60, outcome.LastStep);
        Assert.Contains("accuracy", outcome.FinalMetrics.Keys);
        Assert.Equal(60, _portal.Data.Points.Keys.Count(k => k.Run == 7 && k.Name == "train/loss"));
        Assert.Equal(0, _portal.Data.DuplicatePoints);
        Assert.Equal([20L, 40L, 60L], _portal.Data.Checkpoints.Select(c => c.Step));
        Assert.True(_portal.Data.Artifacts.ContainsKey((7, "config")));
        Assert.Equal("test-agent", _portal.Data.Hellos.First().Name);
        Assert.False(_portal.Data.Hellos.First().Hardware.CudaAvailable);
        Assert.Equal(NumericCheckStatus.Passed, _portal.Data.Hellos.First().NumericCheck?.Status);
        var environment = _portal.Data.Environments[7];
        Assert.Equal("cpu", environment.Device);
        Assert.Equal(TorchSharp.torch.__version__, environment.TorchVersion);
        Assert.Equal(TorchSharp.torch.get_num_threads(), environment.IntraOpThreads);
        Assert.StartsWith("Passed (cpu, ", environment.NumericCheck);
    }

    [Fact]
    public async Task Training_goes_on_while_the_portal_is_down_and_every_point_arrives_exactly_once()
    {
        _portal.Data.Queue.Enqueue(new JobAssignment(8, "classifier", SmallClassifier.Replace("\"steps\": 60", "\"steps\": 150"), 2, null));
        await using var agent = await AgentHost.StartAsync(Options());
        await Until(() => _portal.Data.Points.Keys.Any(k => k.Run == 8 && k.Step >= 10), "the first points");

        await _portal.StopAsync();
        var pendingWhileDown = 0L;
        await Until(() => (pendingWhileDown = agent.PendingPoints) > 20, "points to pile up in the outbox");
        await _portal.StartAsync();

        await Until(() => _portal.Data.Outcomes.ContainsKey(8), "the outcome after the restart", 180);
        Assert.Equal(RunOutcomeStatus.Succeeded, _portal.Data.Outcomes[8].Status);
        Assert.Equal(Enumerable.Range(1, 150).Select(i => (long)i),
            _portal.Data.Points.Keys.Where(k => k.Run == 8 && k.Name == "train/loss").Select(k => k.Step).Order());
        Assert.Equal(0, _portal.Data.DuplicatePoints);
        Assert.True(pendingWhileDown > 20);
        Assert.Equal(0, agent.PendingPoints);
    }

    [Fact]
    public async Task A_killed_agent_leaves_its_backlog_on_disk_and_the_next_agent_sends_it()
    {
        _portal.Data.Queue.Enqueue(new JobAssignment(9, "classifier", SmallClassifier, 3, null));
        var agent = await AgentHost.StartAsync(Options());
        await Until(() => _portal.Data.Points.Keys.Any(k => k.Run == 9), "the first points");
        await _portal.StopAsync();
        await Until(() => agent.PendingPoints > 5, "points to pile up");
        var pending = agent.PendingPoints;
        await agent.KillAsync();

        await _portal.StartAsync();
        await using var next = await AgentHost.StartAsync(Options());

        await Until(() => next.PendingItems == 0 && next.IsConnected, "the backlog to drain");
        var arrived = _portal.Data.Points.Keys.Count(k => k.Run == 9);
        Assert.True(arrived >= pending, $"{arrived} points arrived, {pending} were pending");
        Assert.Equal(0, _portal.Data.DuplicatePoints);
    }

    [Fact]
    public async Task A_cancelled_run_stops_and_is_reported_cancelled()
    {
        _portal.Data.Queue.Enqueue(new JobAssignment(10, "classifier", SmallClassifier.Replace("\"steps\": 60", "\"steps\": 100000"), 4, null));
        await using var agent = await AgentHost.StartAsync(Options());
        await Until(() => _portal.Data.Points.Keys.Any(k => k.Run == 10 && k.Step >= 5), "training to start");

        await _portal.Data.Clients.Values.First().CancelRun(10);

        await Until(() => _portal.Data.Outcomes.ContainsKey(10), "the cancelled outcome");
        Assert.Equal(RunOutcomeStatus.Cancelled, _portal.Data.Outcomes[10].Status);
        Assert.True(_portal.Data.Outcomes[10].LastStep < 100000);
    }

    [Fact]
    public async Task A_job_with_a_malformed_config_fails_with_the_reason_and_the_agent_takes_the_next()
    {
        _portal.Data.Queue.Enqueue(new JobAssignment(11, "classifier", """{"steps": -5}""", 1, null));
        _portal.Data.Queue.Enqueue(new JobAssignment(12, "classifier", SmallClassifier.Replace("\"steps\": 60", "\"steps\": 5"), 1, null));
        await using var agent = await AgentHost.StartAsync(Options());

        await Until(() => _portal.Data.Outcomes.ContainsKey(12), "the second job");

        Assert.Equal(RunOutcomeStatus.Failed, _portal.Data.Outcomes[11].Status);
        Assert.Contains("steps must be", _portal.Data.Outcomes[11].Error);
        Assert.Equal(RunOutcomeStatus.Succeeded, _portal.Data.Outcomes[12].Status);
    }

    [Fact]
    public async Task A_resumed_job_downloads_the_checkpoint_and_continues_from_the_next_step()
    {
        _portal.Data.Queue.Enqueue(new JobAssignment(13, "classifier", SmallClassifier, 5, null));
        await using (var first = await AgentHost.StartAsync(Options()))
            await Until(() => _portal.Data.Outcomes.ContainsKey(13), "the first run");
        var stepsBefore = _portal.Data.Points.Count;
        _portal.Data.Outcomes.Clear();
        // The uploaded checkpoint is the final one (step 60); resume a longer run from it.
        _portal.Data.Queue.Enqueue(new JobAssignment(13, "classifier", SmallClassifier.Replace("\"steps\": 60", "\"steps\": 80"), 5, 60));

        await using var second = await AgentHost.StartAsync(Options());
        await Until(() => _portal.Data.Outcomes.ContainsKey(13), "the resumed run");

        Assert.Equal(80, _portal.Data.Outcomes[13].LastStep);
        Assert.Equal(80, _portal.Data.Points.Keys.Count(k => k.Run == 13 && k.Name == "train/loss"));
        Assert.Equal(0, _portal.Data.DuplicatePoints);
        Assert.True(_portal.Data.Points.Count > stepsBefore);
    }
}
