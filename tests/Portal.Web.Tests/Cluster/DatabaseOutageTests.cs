using System.Net;
using Portal.Contracts;
using Portal.Testing;
using Portal.Web.Features.Runs;
using Portal.Web.Tests.Agents;

namespace Portal.Web.Tests.Cluster;

/// <summary>
/// PostgreSQL going away during a run, on a server of the test's own (the shared one stays up for the other tests):
/// the portal keeps running and says so, points sent meanwhile are refused as retryable (the agent keeps them in its
/// outbox), and once the server is back every point is stored exactly once.
/// </summary>
public sealed class DatabaseOutageTests
{
    [Fact]
    public async Task Points_sent_while_the_database_is_down_are_refused_for_a_retry_and_stored_once_when_it_is_back()
    {
        const int PerBatch = 100;
        var server = PostgresServer.Start();
        try
        {
            await using var app = new PortalAppFactory().UsePostgres(server.CreateDatabase());
            AgentTestData.UseFastHeartbeats(app);
            app.Settings["Portal:Runs:LostAfterSeconds"] = "600"; // the outage must not make the run Lost
            var (_, token) = await AgentTestData.CreateTokenAsync(app);
            var runId = await AgentTestData.QueueRunAsync(app);
            await using var agent = await TestAgent.ConnectAsync(app.ServerAddress, token, "patient-box", heartbeat: false);
            Assert.Equal(runId, (await agent.TakeJobAsync())!.RunId);
            for (var b = 0; b < 5; b++) Assert.Null((await agent.SendAsync(runId, b, Batch(b))).Error);

            server.Control(start: false);
            var refused = await agent.SendAsync(runId, 5, Batch(5));
            Assert.NotNull(refused.Error);
            Assert.True(refused.Retryable, refused.Error);
            using var http = new HttpClient { BaseAddress = app.ServerAddress };
            var degraded = await http.GetAsync("health/ready");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, degraded.StatusCode);
            Assert.Contains("database", await degraded.Content.ReadAsStringAsync());
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("health/live")).StatusCode);

            server.Control(start: true);
            await AgentTestData.EventuallyAsync(async () => (await http.GetAsync("health/ready")).IsSuccessStatusCode, "the portal ready again", 60);
            // The outbox sends what was not acknowledged, from the last acknowledged batch on.
            for (var b = 4; b < 10; b++)
            {
                var ack = await agent.SendAsync(runId, b, Batch(b));
                Assert.True(ack.Error is null, ack.Error);
            }
            Assert.Null((await agent.FinishAsync(runId, RunOutcomeStatus.Succeeded, 10 * PerBatch - 1)).Error);

            Assert.Equal(10 * PerBatch, await AgentTestData.PointCountAsync(app, runId));
            Assert.Equal(RunStatus.Succeeded, (await AgentTestData.RunAsync(app, runId)).Status);
        }
        finally
        {
            server.Stop();
        }

        static IEnumerable<MetricPointDto> Batch(int b) => TestAgent.Points("loss", b * PerBatch, (b + 1) * PerBatch - 1);
    }
}
