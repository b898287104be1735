using Portal.Agent.Outbox;
using Portal.Contracts;
using Xunit;

namespace Portal.Agent.Tests.Agent;

/// <summary>An agent given several portal instances (--portal A,B) moves to the next when one is down or goes away.</summary>
public sealed class PortalFailoverTests : IAsyncLifetime
{
    private readonly string _data = Directory.CreateTempSubdirectory("portal-failover-").FullName;
    private readonly TestPortal _a = new();
    private readonly TestPortal _b = new();

    public Task InitializeAsync() => _b.StartAsync();

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        Directory.Delete(_data, recursive: true);
    }

    private AgentOptions Options() => new()
    {
        PortalUrl = $"{_a.Url}, {_b.Url}", Token = "test-token", Name = "failover-agent", DataDirectory = _data, Device = "cpu",
        ReconnectMinDelay = TimeSpan.FromMilliseconds(50), ReconnectMaxDelay = TimeSpan.FromMilliseconds(200),
        JobPollInterval = TimeSpan.FromSeconds(5), BatchLinger = TimeSpan.FromMilliseconds(20),
    };

    private static async Task Until(Func<bool> condition, string what, int seconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Timed out waiting for {what}.");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task With_the_first_instance_down_the_outbox_goes_to_the_next_whole_and_once()
    {
        using (var outbox = new DurableOutbox(Path.Combine(_data, "outbox")))
        {
            for (var step = 1; step <= 200; step++)
                outbox.Append(new MetricsItem(31, [new MetricPointDto("train/loss", step, 1.0 / step, DateTimeOffset.UnixEpoch.AddSeconds(step))]));
            outbox.Append(new FinishedItem(31, new RunOutcome(31, RunOutcomeStatus.Succeeded, new Dictionary<string, double>(), null, 200)));
        }

        await using var agent = await AgentHost.StartAsync(Options());
        await Until(() => _b.Data.Outcomes.ContainsKey(31), "the outcome at the second instance");

        Assert.Equal(Enumerable.Range(1, 200).Select(i => (long)i), _b.Data.Points.Keys.Where(k => k.Run == 31).Select(k => k.Step).Order());
        Assert.Equal(0, _b.Data.DuplicatePoints);
        // The instance records the outcome before its answer reaches the agent, which then drops the item.
        await Until(() => agent.PendingItems == 0, "the outbox emptied by the last acknowledgement");
    }

    [Fact]
    public async Task When_its_instance_goes_away_the_agent_registers_with_the_next()
    {
        await _a.StartAsync();
        await using var agent = await AgentHost.StartAsync(Options());
        await Until(() => !_a.Data.Hellos.IsEmpty && agent.IsConnected, "registration with the first instance");
        Assert.Empty(_b.Data.Hellos);

        await _a.StopAsync();

        await Until(() => !_b.Data.Hellos.IsEmpty && agent.IsConnected, "registration with the second instance");
        Assert.Equal("failover-agent", _b.Data.Hellos.Single().Name);
    }
}
