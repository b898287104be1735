using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using Portal.Contracts;
using Portal.Testing;
using Portal.Web.Features.Runs;
using Portal.Web.Tests.Agents;

namespace Portal.Web.Tests.Cluster;

/// <summary>
/// On PostgreSQL the metric writer stores runs in lanes, each on its own connection: runs of different lanes are
/// stored side by side and never wait for each other, and each run keeps the order and "each point once" of a single
/// writer.
/// </summary>
public sealed class MetricWriterLanesTests : IAsyncLifetime
{
    private readonly PortalAppFactory _app = new PortalAppFactory().UsePostgres();

    public Task InitializeAsync()
    {
        _app.Settings["Portal:Runs:PostgresWriterLanes"] = "2";
        AgentTestData.UseFastHeartbeats(_app);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task A_run_held_up_by_a_lock_does_not_hold_up_a_run_of_the_other_lane()
    {
        var (first, second) = (await AgentTestData.AgentWithRunAsync(_app, "lock-a"), await AgentTestData.AgentWithRunAsync(_app, "lock-b"));
        await using var _ = first.Agent;
        await using var __ = second.Agent;
        Assert.NotEqual(first.RunId % 2, second.RunId % 2); // lanes are chosen by run id
        var (held, free) = (first, second);

        // Someone else holds the held run's row: its lane waits at the run's last-step update until they commit.
        await using var blocker = new NpgsqlConnection(_app.PostgresConnection);
        await blocker.OpenAsync();
        await using var transaction = await blocker.BeginTransactionAsync();
        await using (var lockRow = new NpgsqlCommand("""SELECT 1 FROM "Runs" WHERE "Id" = @id FOR UPDATE""", blocker, transaction))
        {
            lockRow.Parameters.AddWithValue("id", held.RunId);
            await lockRow.ExecuteNonQueryAsync();
        }
        var waiting = held.Agent.SendAsync(held.RunId, 1, TestAgent.Points("loss", 0, 99));

        var ack = await free.Agent.SendAsync(free.RunId, 1, TestAgent.Points("loss", 0, 99)).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(100, ack.Accepted);
        Assert.Equal(100, await AgentTestData.PointCountAsync(_app, free.RunId));
        Assert.False(waiting.IsCompleted);
        await transaction.CommitAsync();
        Assert.Equal(100, (await waiting.WaitAsync(TimeSpan.FromSeconds(20))).Accepted);
        Assert.Equal(100, await AgentTestData.PointCountAsync(_app, held.RunId));
    }

    [Fact]
    public async Task Runs_written_at_once_in_both_lanes_store_each_point_once_and_publish_each_run_in_order()
    {
        var runs = new List<(TestAgent Agent, long RunId)>();
        for (var i = 0; i < 4; i++) runs.Add(await AgentTestData.AgentWithRunAsync(_app, $"order-{i}"));
        Assert.Equal(2, runs.Select(r => r.RunId % 2).Distinct().Count());
        var published = runs.ToDictionary(r => r.RunId, _ => new List<long>());
        var stream = _app.Services.GetRequiredService<MetricStream>();
        var subscriptions = runs.Select(r => stream.Subscribe(r.RunId, (runId, points) =>
        {
            var steps = published[runId];
            lock (steps) steps.AddRange(points.Where(p => p.Name == "loss").Select(p => p.Step));
            return ValueTask.CompletedTask;
        })).ToList();
        try
        {
            await Task.WhenAll(runs.Select(async r =>
            {
                for (var batch = 0; batch < 20; batch++)
                {
                    var points = TestAgent.Points("loss", batch * 500, batch * 500 + 499).Concat(TestAgent.Points("lr", batch * 500, batch * 500 + 499)).ToList();
                    Assert.Equal(1000, (await r.Agent.SendAsync(r.RunId, batch, points)).Accepted);
                    if (batch % 4 == 1) Assert.Equal(1000, (await r.Agent.SendAsync(r.RunId, batch, points)).Accepted); // a resend after a lost ack
                }
            }));

            foreach (var (_, runId) in runs)
            {
                Assert.Equal(20_000, await AgentTestData.PointCountAsync(_app, runId));
                Assert.Equal(9_999, (await AgentTestData.RunAsync(_app, runId)).LastStep);
                var steps = published[runId];
                lock (steps) Assert.Equal(Enumerable.Range(0, 10_000).Select(s => (long)s), steps); // each once, in order
            }
        }
        finally
        {
            subscriptions.ForEach(s => s.Dispose());
            foreach (var (agent, _) in runs) await agent.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("0")]
    [InlineData("17")]
    public void A_lane_count_out_of_range_stops_the_portal_at_start_up_with_the_reason(string lanes)
    {
        using var app = new PortalAppFactory().UsePostgres();
        app.Settings["Portal:Runs:PostgresWriterLanes"] = lanes;

        var error = Assert.ThrowsAny<Exception>(() => app.ServerAddress);

        var validation = error as OptionsValidationException ?? Assert.IsType<OptionsValidationException>(error.GetBaseException());
        Assert.Contains("Portal:Runs:PostgresWriterLanes must be between 1 and 16.", validation.Message);
    }
}
