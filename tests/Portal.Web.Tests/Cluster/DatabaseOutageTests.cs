using System.Net;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using MudBlazor.Services;
using Portal.Contracts;
using Portal.Testing;
using Portal.Web.Components.Layout;
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

            await RedisOutageTests.AssertEachPointStoredOnceAsync(app, runId, 10 * PerBatch);
            Assert.Equal(RunStatus.Succeeded, (await AgentTestData.RunAsync(app, runId)).Status);
        }
        finally
        {
            server.Stop();
        }

        static IEnumerable<MetricPointDto> Batch(int b) => TestAgent.Points("loss", b * PerBatch, (b + 1) * PerBatch - 1);
    }

    [Fact]
    public async Task The_layout_shows_a_banner_while_the_database_is_unreachable_and_drops_it_when_the_database_is_back()
    {
        var server = PostgresServer.Start();
        try
        {
            await using var app = new PortalAppFactory().UsePostgres(server.CreateDatabase());
            _ = app.ServerAddress;
            await using var ui = new BunitContext();
            ui.JSInterop.Mode = JSRuntimeMode.Loose;
            ui.Services.AddMudServices();
            ui.Services.AddSingleton(app.Services.GetRequiredService<HealthCheckService>());
            var banner = ui.Render<HealthBanner>();

            server.Control(start: false);
            banner.WaitForAssertion(() => Assert.Contains("The database is unreachable", banner.Find("[data-testid=health-banner]").TextContent),
                TimeSpan.FromSeconds(60));

            server.Control(start: true);
            banner.WaitForAssertion(() => Assert.Empty(banner.FindAll("[data-testid=health-banner]")), TimeSpan.FromSeconds(60));
        }
        finally
        {
            server.Stop();
        }
    }

    [Fact]
    public async Task An_instance_started_while_the_database_is_down_is_live_but_not_ready_and_migrates_once_the_database_answers()
    {
        var server = PostgresServer.Start();
        try
        {
            var database = server.CreateEmptyDatabase();
            server.Control(start: false);
            await using var app = new PortalAppFactory().UsePostgres(database);
            using var http = new HttpClient { BaseAddress = app.ServerAddress };
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("health/live")).StatusCode);
            var notReady = await http.GetAsync("health/ready");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
            Assert.Contains("The database is unreachable", await notReady.Content.ReadAsStringAsync());
            var page = await http.GetAsync("account/login");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, page.StatusCode);
            Assert.Contains("database is unreachable", await page.Content.ReadAsStringAsync());

            server.Control(start: true);
            await RedisOutageTests.WaitUntilReadyAsync(app);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("account/login")).StatusCode);
            Assert.True(await AgentTestData.ShapesProjectIdAsync(app) > 0, "the demo data is seeded once the database answers");
        }
        finally
        {
            server.Stop();
        }
    }
}
