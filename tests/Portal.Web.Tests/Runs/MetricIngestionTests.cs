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
}
