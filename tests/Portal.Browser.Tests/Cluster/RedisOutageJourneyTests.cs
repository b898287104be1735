using Portal.Testing;

namespace Portal.Browser.Tests.Cluster;

/// <summary>
/// A portal instance on PostgreSQL with a Redis of the test's own, which goes away: the pages keep working, since a
/// Blazor circuit needs no backplane (it talks only to its own browser).
/// </summary>
public sealed class RedisOutageJourneyTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task A_page_opened_while_Redis_is_down_gets_its_circuit_and_says_that_Redis_is_unreachable()
    {
        var redis = RedisServer.Start();
        var database = TestServers.Postgres.CreateDatabase();
        try
        {
            await using var app = new PortalAppFactory().UsePostgres(database);
            app.Settings["Portal:Redis"] = redis.Configuration;
            var page = await browser.SignInAsync(app.ServerAddress, "member1");

            redis.Control(start: false);
            using (var http = new HttpClient { BaseAddress = app.ServerAddress })
            {
                var deadline = DateTime.UtcNow.AddSeconds(60);
                while ((await http.GetAsync("health/ready")).StatusCode != System.Net.HttpStatusCode.ServiceUnavailable)
                {
                    Assert.True(DateTime.UtcNow < deadline, "The instance did not notice that Redis went away");
                    await Task.Delay(100);
                }
            }
            // A new page is a new circuit: a new SignalR connection, which a Redis backplane could not subscribe.
            await page.GotoAsync(app.ServerAddress.ToString());
            await BrowserFixture.WaitForCircuitAsync(page);
            await page.Locator("[data-testid=health-banner] >> text=Redis is unreachable").WaitForAsync(new() { Timeout = 60_000 });
        }
        finally
        {
            redis.Stop();
            TestServers.Postgres.DropDatabase(database);
        }
    }
}
