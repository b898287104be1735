using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.DependencyInjection;
using Portal.Contracts;
using Portal.Testing;
using Portal.Web.Features.Runs;
using Portal.Web.Tests.Agents;

namespace Portal.Web.Tests.Runs;

public sealed class MetricIngestionTests : IClassFixture<PortalAppFactory>
{
    private readonly PortalAppFactory _app;

    public MetricIngestionTests(PortalAppFactory app)
    {
        _app = app;
        AgentTestData.UseFastHeartbeats(app);
    }

    private async Task<(TestAgent Agent, long RunId)> AgentWithRunAsync(string name)
    {
        var (_, token) = await AgentTestData.CreateTokenAsync(_app);
        var agent = await TestAgent.ConnectAsync(_app.ServerAddress, token, name);
        var runId = await AgentTestData.QueueRunAsync(_app);
        // Other tests' runs may be queued too: take jobs until ours comes.
        JobAssignment? job;
        do job = await agent.TakeJobAsync(); while (job is not null && job.RunId != runId && await Finish(agent, job));
        Assert.NotNull(job);
        return (agent, runId);
    }

    private static async Task<bool> Finish(TestAgent agent, JobAssignment job)
    {
        await agent.FinishAsync(job.RunId, RunOutcomeStatus.Cancelled, 0);
        return true;
    }

    [Fact]
    public async Task A_run_completes_with_every_point_stored_once_even_when_batches_are_sent_twice()
    {
        var (agent, runId) = await AgentWithRunAsync("complete-box");
        await using var _ = agent;
        for (var batch = 0; batch < 10; batch++)
        {
            var points = TestAgent.Points("loss", batch * 100, batch * 100 + 99).Concat(TestAgent.Points("lr", batch * 100, batch * 100 + 99)).ToList();
            var ack = await agent.SendAsync(runId, batch, points);
            Assert.Null(ack.Error);
            Assert.Equal(200, ack.Accepted);
            if (batch % 3 == 0) Assert.Equal(200, (await agent.SendAsync(runId, batch, points)).Accepted); // a resend after a lost ack
        }
        await agent.FinishAsync(runId, RunOutcomeStatus.Succeeded, 999, new() { ["AP50"] = 0.5, ["AP"] = 0.25 });

        Assert.Equal(2000, await AgentTestData.PointCountAsync(_app, runId));
        var run = await _app.WithDbAsync(db => Task.FromResult(db.Runs.Single(r => r.Id == runId)));
        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.Equal(999, run.LastStep);
        var details = await AgentTestData.WithRunsAsync(_app, r => r.GetAsync(runId));
        Assert.Equal(0.5, details.Run.FinalMetrics.Single(m => m.Name == "AP50").Value);
    }

    [Fact]
    public async Task Stored_points_are_published_to_viewers_once_after_they_are_committed()
    {
        var (agent, runId) = await AgentWithRunAsync("publish-box");
        await using var _ = agent;
        var seen = new List<MetricPointDto>();
        var stream = _app.Services.GetRequiredService<MetricStream>();
        using var subscription = stream.Subscribe(runId, async (_, points) =>
        {
            // A viewer that reads the database when told must find the points there already.
            var stored = await AgentTestData.PointCountAsync(_app, runId);
            lock (seen) { Assert.True(stored >= seen.Count + points.Count); seen.AddRange(points); }
        });
        // Over 100 points, so that the writer's multi-row statements and their fallback for resends are both used.
        var batch = TestAgent.Points("loss", 0, 249).ToList();
        await agent.SendAsync(runId, 1, batch);
        await agent.SendAsync(runId, 1, batch);
        await agent.SendAsync(runId, 2, TestAgent.Points("loss", 200, 309)); // overlaps the first by 50 points
        await AgentTestData.EventuallyAsync(() => Task.FromResult(seen.Count >= 310), "310 points published");
        Assert.Equal(310, seen.Count);
        Assert.Equal(310, seen.Select(p => p.Step).Distinct().Count());
        Assert.Equal(310, await AgentTestData.PointCountAsync(_app, runId));
    }

    [Fact]
    public async Task NaN_and_infinite_values_are_stored_and_read_back_as_such()
    {
        var (agent, runId) = await AgentWithRunAsync("nan-box");
        await using var _ = agent;
        var now = DateTimeOffset.UtcNow;
        var ack = await agent.SendAsync(runId, 1,
        [
            new MetricPointDto("loss", 1, double.NaN, now), new MetricPointDto("loss", 2, double.PositiveInfinity, now),
            new MetricPointDto("loss", 3, double.NegativeInfinity, now), new MetricPointDto("loss", 4, 0.5, now),
        ]);
        Assert.Null(ack.Error);
        Assert.Equal(4, ack.Accepted);
        var values = await _app.WithDbAsync(db => Task.FromResult(db.MetricPoints.Where(p => p.RunId == runId).OrderBy(p => p.Step).Select(p => p.Value).ToList()));
        Assert.True(double.IsNaN(values[0]));
        Assert.Equal(double.PositiveInfinity, values[1]);
        Assert.Equal(double.NegativeInfinity, values[2]);
        Assert.Equal(0.5, values[3]);

        await agent.FinishAsync(runId, RunOutcomeStatus.Failed, 4, new() { ["loss"] = double.NaN }, "loss diverged");
        var details = await AgentTestData.WithRunsAsync(_app, r => r.GetAsync(runId));
        Assert.True(double.IsNaN(details.Run.FinalMetrics.Single().Value));
        Assert.Equal("NaN", RunFormat.Value(details.Run.FinalMetrics.Single().Value));
    }

    [Fact]
    public async Task Negative_absurd_and_nameless_points_are_rejected_with_reasons_and_the_rest_are_stored()
    {
        var (agent, runId) = await AgentWithRunAsync("bad-steps-box");
        await using var _ = agent;
        var now = DateTimeOffset.UtcNow;
        var ack = await agent.SendAsync(runId, 1,
        [
            new MetricPointDto("loss", -1, 1, now), new MetricPointDto("loss", 5_000_000_000_000, 1, now),
            new MetricPointDto(" ", 3, 1, now), new MetricPointDto("loss", 7, 1, now),
        ]);
        Assert.Null(ack.Error);
        Assert.Equal(1, ack.Accepted);
        Assert.Equal(3, ack.Rejected.Count);
        Assert.Contains(ack.Rejected, r => r.Step == -1 && r.Reason.Contains("negative"));
        Assert.Contains(ack.Rejected, r => r.Reason.Contains("not a plausible training step"));
        Assert.Contains(ack.Rejected, r => r.Reason.Contains("name is empty"));
        Assert.Equal(1, await AgentTestData.PointCountAsync(_app, runId));
        var log = (await AgentTestData.WithRunsAsync(_app, r => r.GetAsync(runId))).LogTail;
        Assert.Contains(log, l => l.Text.Contains("3 metric point(s) of batch 1 refused"));

        // The run and the connection go on.
        Assert.Equal(10, (await agent.SendAsync(runId, 2, TestAgent.Points("loss", 10, 19))).Accepted);
    }

    [Fact]
    public async Task A_batch_over_the_size_limit_is_refused_whole_and_the_connection_stays_up()
    {
        var (agent, runId) = await AgentWithRunAsync("big-batch-box");
        await using var _ = agent;
        var ack = await agent.SendAsync(runId, 1, TestAgent.Points("loss", 0, AgentProtocol.MaxPointsPerBatch));
        Assert.Equal(0, ack.Accepted);
        Assert.Contains($"at most {AgentProtocol.MaxPointsPerBatch}", ack.Error);
        Assert.Equal(0, await AgentTestData.PointCountAsync(_app, runId));
        Assert.Equal(AgentProtocol.MaxPointsPerBatch, (await agent.SendAsync(runId, 2, TestAgent.Points("loss", 0, AgentProtocol.MaxPointsPerBatch - 1))).Accepted);
    }

    [Fact]
    public async Task Points_for_an_unknown_run_or_another_agents_run_are_refused()
    {
        var (owner, runId) = await AgentWithRunAsync("owner-box");
        await using var _ = owner;
        var (_, token) = await AgentTestData.CreateTokenAsync(_app);
        await using var other = await TestAgent.ConnectAsync(_app.ServerAddress, token, "other-box");

        var foreign = await other.SendAsync(runId, 1, TestAgent.Points("loss", 0, 9));
        Assert.Equal(0, foreign.Accepted);
        Assert.Contains("not assigned to this agent", foreign.Error);
        var unknown = await other.SendAsync(999_999, 1, TestAgent.Points("loss", 0, 9));
        Assert.Contains("does not exist", unknown.Error);
        Assert.Equal(0, await AgentTestData.PointCountAsync(_app, runId));
        var finish = await other.FinishAsync(runId, RunOutcomeStatus.Succeeded, 1);
        Assert.Contains("not assigned to this agent", finish.Error);
        Assert.False(finish.Retryable);
        Assert.Equal(RunStatus.Running, (await AgentTestData.RunAsync(_app, runId)).Status);
    }

    [Fact]
    public async Task A_batch_travels_in_columns_and_every_point_is_stored_as_the_agent_sent_it()
    {
        var (agent, runId) = await AgentWithRunAsync("columns-box");
        await using var _ = agent;
        // Whole milliseconds, since SQLite keeps wall times to 100 µs and PostgreSQL to 1 µs; an offset must not move the instant.
        var t0 = new DateTimeOffset(2026, 12, 3, 9, 30, 0, 123, TimeSpan.Zero);
        double[] values = [double.NaN, double.PositiveInfinity, double.NegativeInfinity, double.Epsilon, 2.2250738585072009e-308, 1.0 / 3, -2.5e300, 0.0];
        string[] names = ["train/loss", "train/lr", "val/AP50"];
        var sent = Enumerable.Range(0, 300).Select(i => new MetricPointDto(names[i % 3], i / 3, values[i % values.Length],
            t0.AddMilliseconds(i * 7).ToOffset(TimeSpan.FromMinutes(i % 2 == 0 ? 0 : 330)))).ToList();

        var ack = await agent.SendAsync(runId, 1, sent);
        Assert.Null(ack.Error);
        Assert.Equal(300, ack.Accepted);

        var stored = await _app.WithDbAsync(db => Task.FromResult(db.MetricPoints.Where(p => p.RunId == runId)
            .Select(p => new { p.Name, p.Step, p.Value, p.WallTime }).ToList()));
        Assert.Equal(300, stored.Count);
        var byKey = stored.ToDictionary(p => (p.Name, p.Step));
        foreach (var p in sent)
        {
            var row = byKey[(p.Name, p.Step)];
            if (double.IsNaN(p.Value)) Assert.True(double.IsNaN(row.Value));
            else Assert.Equal(BitConverter.DoubleToInt64Bits(p.Value), BitConverter.DoubleToInt64Bits(row.Value));
            Assert.Equal(p.WallTime.UtcTicks, row.WallTime.UtcTicks);
        }
    }

    [Fact]
    public async Task The_portal_reads_batches_in_the_column_layout_and_clients_write_them_in_it()
    {
        var (agent, runId) = await AgentWithRunAsync("layout-box");
        await using var _ = agent;
        // Bytes laid out by hand: stored only if the hub's resolver hands MetricBatch to its own formatter.
        var ack = await agent.Hub.InvokeAsync<MetricBatchAck>(nameof(IAgentHub.SendMetrics), new RawMessagePack(MetricBatchWire.Valid(runId, 1).ToBytes()));
        Assert.Null(ack.Error);
        Assert.Equal(2, ack.Accepted);
        var stored = await _app.WithDbAsync(db => Task.FromResult(db.MetricPoints.Where(p => p.RunId == runId).OrderBy(p => p.Step).ToList()));
        Assert.Equal([0.5, 0.25], stored.Select(p => p.Value));

        // The client side: the hub protocol that HubConnection uses, with its default settings, writes the columns.
        var points = TestAgent.Points("loss", 0, 999).ToList();
        var message = new MessagePackHubProtocol().GetMessageBytes(new InvocationMessage("1", nameof(IAgentHub.SendMetrics), [new MetricBatch(runId, 2, points)]));
        Assert.InRange(message.Length, 1, 26 * points.Count);
    }

    [Fact]
    public async Task A_malformed_batch_fails_that_call_and_the_connection_and_portal_go_on()
    {
        var (agent, runId) = await AgentWithRunAsync("malformed-box");
        await using var _ = agent;
        byte[][] malformed =
        [
            (MetricBatchWire.Valid(runId, 1) with { Indexes = [0, 7] }).ToBytes(), // a name index out of range
            (MetricBatchWire.Valid(runId, 1) with { Count = 1_000_000 }).ToBytes(), // a count the columns do not hold
            [0xc1], // a byte MessagePack never uses
        ];
        foreach (var bytes in malformed)
        {
            var e = await Assert.ThrowsAsync<HubException>(() => agent.Hub.InvokeAsync<MetricBatchAck>(nameof(IAgentHub.SendMetrics), new RawMessagePack(bytes)));
            Assert.Contains($"Failed to invoke '{nameof(IAgentHub.SendMetrics)}'", e.Message);
        }
        Assert.Equal(0, await AgentTestData.PointCountAsync(_app, runId));

        Assert.Equal(10, (await agent.SendAsync(runId, 2, TestAgent.Points("loss", 0, 9))).Accepted);
        var (_, token) = await AgentTestData.CreateTokenAsync(_app);
        await using var other = await TestAgent.ConnectAsync(_app.ServerAddress, token, "after-malformed-box");
        Assert.Contains("not assigned to this agent", (await other.SendAsync(runId, 3, TestAgent.Points("loss", 10, 19))).Error);
        Assert.Equal(10, await AgentTestData.PointCountAsync(_app, runId));
    }

    [Fact]
    public async Task A_batch_without_a_points_list_is_refused_with_that_reason()
    {
        var (agent, runId) = await AgentWithRunAsync("no-list-box");
        await using var _ = agent;
        var ack = await agent.Hub.InvokeAsync<MetricBatchAck>(nameof(IAgentHub.SendMetrics), new MetricBatch(runId, 4, null!));
        Assert.Equal("The batch has no points list.", ack.Error);
        Assert.Equal((runId, 4L), (ack.RunId, ack.BatchSequence));
    }

    [Fact]
    public async Task An_agent_from_before_the_column_layout_still_delivers_its_points()
    {
        var (agent, runId) = await AgentWithRunAsync("legacy-box");
        await using var _ = agent;
        var ack = await agent.Hub.InvokeAsync<MetricBatchAck>(nameof(IAgentHub.SendMetrics),
            new LegacyMetricBatch(runId, 1, TestAgent.Points("loss", 0, 49).ToList()));
        Assert.Null(ack.Error);
        Assert.Equal(50, ack.Accepted);
        Assert.Equal(50, await AgentTestData.PointCountAsync(_app, runId));
    }
}
