using Portal.Agent.Outbox;
using Portal.Contracts;
using Xunit;

namespace Portal.Agent.Tests.Agent;

/// <summary>Delivery of the outbox to a real SignalR hub: how many calls it takes and what the agent does with the portal's answers.</summary>
public sealed class OutboxDeliveryTests : IAsyncLifetime
{
    private readonly string _data = Directory.CreateTempSubdirectory("portal-delivery-").FullName;
    private readonly TestPortal _portal = new();

    public Task InitializeAsync() => _portal.StartAsync();

    public async Task DisposeAsync()
    {
        await _portal.DisposeAsync();
        Directory.Delete(_data, recursive: true);
    }

    private AgentOptions Options() => new()
    {
        PortalUrl = _portal.Url, Token = "test-token", Name = "delivery-agent", DataDirectory = _data, Device = "cpu",
        ReconnectMinDelay = TimeSpan.FromMilliseconds(50), ReconnectMaxDelay = TimeSpan.FromMilliseconds(200),
        JobPollInterval = TimeSpan.FromSeconds(5), BatchLinger = TimeSpan.FromMilliseconds(20),
    };

    /// <summary>Fills the agent's outbox before the agent starts, as a backlog left by an earlier process would.</summary>
    private void Backlog(Action<DurableOutbox> fill)
    {
        using var outbox = new DurableOutbox(Path.Combine(_data, "outbox"));
        fill(outbox);
    }

    private static MetricsItem Point(long run, long step) => new(run, [new MetricPointDto("train/loss", step, 1.0 / (step + 1), DateTimeOffset.UnixEpoch.AddSeconds(step))]);

    private static FinishedItem Finished(long run, long lastStep) =>
        new(run, new RunOutcome(run, RunOutcomeStatus.Succeeded, new Dictionary<string, double> { ["accuracy"] = 0.5 }, null, lastStep));

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
    public async Task Thousands_of_alternating_metric_and_log_entries_go_in_a_few_hub_calls_and_every_one_arrives_once()
    {
        const int Steps = 3000;
        Backlog(outbox =>
        {
            for (var step = 1; step <= Steps; step++)
            {
                outbox.Append(Point(21, step));
                outbox.Append(new LogItem(21, [$"step {step}: loss is NaN"]));
            }
        });

        await using var agent = await AgentHost.StartAsync(Options());
        await Until(() => agent.PendingItems == 0, "the backlog to drain");

        Assert.Equal(Steps, _portal.Data.Points.Keys.Count(k => k.Run == 21));
        Assert.Equal(0, _portal.Data.DuplicatePoints);
        Assert.Equal(Steps, _portal.Data.Logs.Count);
        Assert.Equal("step 1: loss is NaN", _portal.Data.Logs.First());
        var calls = _portal.Data.CallsOf(nameof(IAgentHub.SendMetrics)) + _portal.Data.CallsOf(nameof(IAgentHub.AppendLog));
        Assert.True(calls <= 8, $"{2 * Steps} entries took {calls} hub calls");
    }

    [Fact]
    public async Task Points_the_portal_asks_to_send_again_are_sent_again_until_stored()
    {
        var refusals = 0;
        _portal.Data.AnswerMetrics = batch => Interlocked.Increment(ref refusals) <= 3
            ? new MetricBatchAck(batch.RunId, batch.BatchSequence, 0, [], "The portal could not store the batch (database is locked); send it again.", Retryable: true)
            : null;
        Backlog(outbox =>
        {
            for (var step = 1; step <= 10; step++) outbox.Append(Point(22, step));
            outbox.Append(Finished(22, 10));
        });

        await using var agent = await AgentHost.StartAsync(Options());
        await Until(() => _portal.Data.Outcomes.ContainsKey(22), "the outcome");

        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), _portal.Data.Points.Keys.Where(k => k.Run == 22).Select(k => k.Step).Order());
        Assert.True(_portal.Data.CallsOf(nameof(IAgentHub.SendMetrics)) >= 4);
        Assert.Equal(0, agent.PendingItems);
    }

    [Fact]
    public async Task A_permanent_refusal_is_dropped_after_one_attempt_and_what_follows_is_delivered()
    {
        _portal.Data.AnswerMetrics = batch => batch.RunId == 23
            ? new MetricBatchAck(batch.RunId, batch.BatchSequence, 0, [], "Run 23 is Succeeded; a finished run takes no more points.")
            : null;
        _portal.Data.AnswerOutcome = outcome => outcome.RunId == 23 ? DeliveryAck.Refused("Run 23 is Succeeded; a finished run takes no more outcomes.") : null;
        Backlog(outbox =>
        {
            outbox.Append(Point(23, 1));
            outbox.Append(Finished(23, 1));
            outbox.Append(Point(24, 1));
            outbox.Append(Finished(24, 1));
        });

        await using var agent = await AgentHost.StartAsync(Options());
        await Until(() => _portal.Data.Outcomes.ContainsKey(24), "the next run's outcome");

        Assert.Equal(0, agent.PendingItems);
        Assert.False(_portal.Data.Outcomes.ContainsKey(23));
        Assert.DoesNotContain(_portal.Data.Points.Keys, k => k.Run == 23);
        Assert.Contains(_portal.Data.Points.Keys, k => k.Run == 24);
        Assert.Equal(2, _portal.Data.CallsOf(nameof(IAgentHub.SendMetrics)));
        Assert.Equal(2, _portal.Data.CallsOf(nameof(IAgentHub.RunFinished)));
    }

    [Fact]
    public async Task An_outcome_the_portal_asks_to_send_again_is_not_lost()
    {
        var refusals = 0;
        _portal.Data.AnswerOutcome = _ => Interlocked.Increment(ref refusals) <= 2 ? DeliveryAck.Retry("The run changed at the same moment; send the outcome again.") : null;
        Backlog(outbox => outbox.Append(Finished(25, 0)));

        await using var agent = await AgentHost.StartAsync(Options());
        await Until(() => _portal.Data.Outcomes.ContainsKey(25), "the outcome");

        Assert.Equal(3, _portal.Data.CallsOf(nameof(IAgentHub.RunFinished)));
    }
}
