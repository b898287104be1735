using System.Net;
using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Contracts;
using Portal.Testing;
using Portal.Web.Features.Curves;
using Portal.Web.Features.Tasks;
using Portal.Web.Infrastructure;
using Portal.Web.Tests.Agents;

namespace Portal.Web.Tests.Cluster;

/// <summary>
/// Redis going away, on a server of the test's own (the shared one stays up for the other tests): the instances keep
/// serving and storing, say that they are not ready, and share live updates again once Redis is back.
/// </summary>
public sealed class RedisOutageTests
{
    [Fact]
    public async Task Instances_started_while_Redis_is_down_are_live_but_not_ready_and_share_claims_once_it_is_up()
    {
        var redis = RedisServer.Reserve();
        try
        {
            await using var cluster = new TwoInstances(redis: redis);
            var (a, b) = (cluster.A, cluster.B);
            using var http = new HttpClient { BaseAddress = a.ServerAddress };
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("health/live")).StatusCode);
            var notReady = await http.GetAsync("health/ready");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
            Assert.Contains("Redis is unreachable", await notReady.Content.ReadAsStringAsync());

            redis.Control(start: true);
            await WaitUntilReadyAsync(a);
            await WaitUntilReadyAsync(b);

            var projectId = await AgentTestData.ShapesProjectIdAsync(a);
            var member = await AgentTestData.ActorAsync(a, "member1");
            var taskId = await OpenTaskAsync(a, projectId);
            var seenOnB = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using var subscription = b.Services.GetRequiredService<LiveUpdates>().Subscribe(Topics.Project(projectId), () =>
            {
                seenOnB.TrySetResult();
                return Task.CompletedTask;
            });
            using (var scope = a.Services.CreateScope())
                await scope.ServiceProvider.GetRequiredService<TaskClaims>().ClaimAsync(member, taskId);

            await seenOnB.Task.WaitAsync(TimeSpan.FromSeconds(20));
        }
        finally
        {
            redis.Stop();
        }
    }

    [Fact]
    public async Task A_cookie_from_one_instance_is_read_by_the_other_and_by_an_instance_started_while_Redis_is_down()
    {
        var redis = RedisServer.Start();
        try
        {
            await using var cluster = new TwoInstances(redis: redis);
            var (a, b) = (cluster.A, cluster.B);
            await WaitUntilReadyAsync(a);
            var cookies = new CookieContainer();
            using (var client = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = a.ServerAddress })
            {
                var token = await SignedInClient.GetAntiforgeryTokenAsync(client, "account/login");
                var signIn = await client.PostAsync("account/login", new FormUrlEncodedContent(new Dictionary<string, string>
                {
                    ["username"] = "member1", ["password"] = SignedInClient.DemoPassword, ["returnUrl"] = "/", ["__RequestVerificationToken"] = token,
                }));
                Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
                Assert.DoesNotContain("login", signIn.Headers.Location?.OriginalString ?? "login");
            }
            Assert.Equal(HttpStatusCode.OK, await HomeWithCookieAsync(b, cookies, a.ServerAddress));

            redis.Control(start: false);
            await using var started = new PortalAppFactory().UsePostgres(cluster.Database);
            started.Settings["Portal:Redis"] = redis.Configuration;
            Assert.Equal(HttpStatusCode.OK, await HomeWithCookieAsync(started, cookies, a.ServerAddress));
            using var http = new HttpClient { BaseAddress = started.ServerAddress };
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("account/login")).StatusCode); // its antiforgery token needs a key too
        }
        finally
        {
            redis.Stop();
        }

        // A's cookie, sent to another instance; a cookie the instance cannot read sends the browser to the sign-in page.
        static async Task<HttpStatusCode> HomeWithCookieAsync(PortalAppFactory app, CookieContainer from, Uri issuer)
        {
            var cookies = new CookieContainer();
            foreach (Cookie cookie in from.GetCookies(issuer)) cookies.Add(app.ServerAddress, new Cookie(cookie.Name, cookie.Value));
            using var client = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = app.ServerAddress };
            return (await client.GetAsync("/")).StatusCode;
        }
    }

    [Fact]
    public async Task Points_sent_while_Redis_is_down_are_stored_once_and_viewers_on_the_other_instance_get_points_again_once_it_is_back()
    {
        const int PerBatch = 50;
        var redis = RedisServer.Start();
        try
        {
            await using var cluster = new TwoInstances(redis: redis);
            var (a, b) = (cluster.A, cluster.B);
            var (_, token) = await AgentTestData.CreateTokenAsync(a);
            var runId = await AgentTestData.QueueRunAsync(a);
            await using var agent = await TestAgent.ConnectAsync(a.ServerAddress, token, "box-on-a", heartbeat: false);
            Assert.Equal(runId, (await agent.TakeJobAsync())!.RunId);
            await using var viewer = await TwoInstanceTests.ViewerAsync(b, "mentor1");
            var received = Channel.CreateUnbounded<LivePoints>();
            viewer.On<LivePoints>(nameof(IMetricsViewer.Points), p => received.Writer.TryWrite(p));
            await viewer.InvokeAsync("Watch", runId, "loss");
            Assert.Null((await agent.SendAsync(runId, 0, Batch(0))).Error);
            await ReceiveStepAsync(received, 0);

            redis.Control(start: false);
            for (var batch = 1; batch < 5; batch++)
            {
                var ack = await agent.SendAsync(runId, batch, Batch(batch));
                Assert.True(ack.Error is null, ack.Error);
            }
            using (var http = new HttpClient { BaseAddress = a.ServerAddress })
            {
                var notReady = await http.GetAsync("health/ready");
                Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
                Assert.Contains("Redis is unreachable", await notReady.Content.ReadAsStringAsync());
            }

            redis.Control(start: true);
            await WaitUntilReadyAsync(a);
            await WaitUntilReadyAsync(b);
            // The agent's outbox sends the last acknowledged batch again, as it may after a reconnect.
            for (var batch = 4; batch < 6; batch++) Assert.Null((await agent.SendAsync(runId, batch, Batch(batch))).Error);
            await ReceiveStepAsync(received, 5 * PerBatch);

            await AssertEachPointStoredOnceAsync(a, runId, 6 * PerBatch);
        }
        finally
        {
            redis.Stop();
        }

        static IEnumerable<MetricPointDto> Batch(int b) => TestAgent.Points("loss", b * PerBatch, (b + 1) * PerBatch - 1);
    }

    [Fact]
    public async Task Agents_and_viewers_that_connect_while_Redis_is_down_are_served_by_their_instance_and_reach_the_other_once_it_is_back()
    {
        const int PerBatch = 50;
        var redis = RedisServer.Start();
        try
        {
            await using var cluster = new TwoInstances(redis: redis);
            var (a, b) = (cluster.A, cluster.B);
            var (_, token) = await AgentTestData.CreateTokenAsync(a);
            var runId = await AgentTestData.QueueRunAsync(a);
            redis.Control(start: false);
            await WaitUntilNotReadyAsync(a);
            await WaitUntilNotReadyAsync(b);

            // New connections on both instances while Redis is down: SignalR's Redis lifetime manager would refuse them.
            await using var agent = await TestAgent.ConnectAsync(a.ServerAddress, token, "box-in-outage", heartbeat: false);
            Assert.Equal(runId, (await agent.TakeJobAsync())!.RunId);
            await using var viewerOnA = await TwoInstanceTests.ViewerAsync(a, "mentor1");
            await using var viewerOnB = await TwoInstanceTests.ViewerAsync(b, "member1");
            var onA = Channel.CreateUnbounded<LivePoints>();
            var onB = Channel.CreateUnbounded<LivePoints>();
            viewerOnA.On<LivePoints>(nameof(IMetricsViewer.Points), p => onA.Writer.TryWrite(p));
            viewerOnB.On<LivePoints>(nameof(IMetricsViewer.Points), p => onB.Writer.TryWrite(p));
            await viewerOnA.InvokeAsync("Watch", runId, "loss");
            await viewerOnB.InvokeAsync("Watch", runId, "loss");

            Assert.Null((await agent.SendAsync(runId, 0, Batch(0))).Error);
            // The viewer on the agent's instance sees the points at once; the one on B cannot before Redis is back.
            await ReceiveStepAsync(onA, 0);

            redis.Control(start: true);
            await WaitUntilReadyAsync(a);
            await WaitUntilReadyAsync(b);
            // The connections are subscribed in Redis shortly after it answers: a batch at a time until B's viewer has one.
            var batch = 1;
            await AgentTestData.EventuallyAsync(async () =>
            {
                Assert.Null((await agent.SendAsync(runId, batch, Batch(batch))).Error);
                batch++;
                return onB.Reader.TryRead(out _);
            }, "a live point on B after Redis is back", 60);
            Assert.Null((await agent.SendAsync(runId, batch, Batch(batch))).Error);
            await ReceiveStepAsync(onA, batch * PerBatch);
            await ReceiveStepAsync(onB, batch * PerBatch);

            await AssertEachPointStoredOnceAsync(a, runId, (batch + 1) * PerBatch);
        }
        finally
        {
            redis.Stop();
        }

        static IEnumerable<MetricPointDto> Batch(int b) => TestAgent.Points("loss", b * PerBatch, (b + 1) * PerBatch - 1);
    }

    /// <summary>Reads live messages until one holds <paramref name="step"/> (those of the outage may come late, or not).</summary>
    private static async Task ReceiveStepAsync(Channel<LivePoints> received, long step)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            var message = await received.Reader.ReadAsync(timeout.Token);
            if (message.Decode().Steps.Contains(step)) return;
        }
    }

    private static async Task WaitUntilNotReadyAsync(PortalAppFactory app)
    {
        using var http = new HttpClient { BaseAddress = app.ServerAddress };
        await AgentTestData.EventuallyAsync(async () => (await http.GetAsync("health/ready")).StatusCode == HttpStatusCode.ServiceUnavailable,
            $"{app.ServerAddress} not ready", 60);
    }

    internal static async Task WaitUntilReadyAsync(PortalAppFactory app)
    {
        using var http = new HttpClient { BaseAddress = app.ServerAddress };
        await AgentTestData.EventuallyAsync(async () => (await http.GetAsync("health/ready")).IsSuccessStatusCode, $"{app.ServerAddress} ready", 60);
    }

    /// <summary>Every step of the run's "loss" stored, and none twice: counted per (run, metric, step).</summary>
    internal static async Task AssertEachPointStoredOnceAsync(PortalAppFactory app, long runId, int steps)
    {
        var perStep = await app.WithDbAsync(db => db.MetricPoints.Where(p => p.RunId == runId)
            .GroupBy(p => new { p.Name, p.Step }).Select(g => new { g.Key.Name, g.Key.Step, Count = g.Count() }).ToListAsync());
        Assert.All(perStep, s => Assert.Equal(1, s.Count));
        Assert.Equal(Enumerable.Range(0, steps).Select(i => ("loss", (long)i)), perStep.Select(s => (s.Name, s.Step)).Order());
    }

    private static async Task<long> OpenTaskAsync(PortalAppFactory app, long projectId)
    {
        await using var db = await app.DbFactory.CreateDbContextAsync();
        var task = new ProjectTask
        {
            ProjectId = projectId, Title = "Anchors per level", Component = ModelComponent.DataPipeline,
            Stage = Portal.Web.Features.Projects.ReproductionStage.PaperAnalysis, Status = ProjectTaskStatus.Open,
            CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow,
        };
        db.Tasks.Add(task);
        await db.SaveChangesAsync();
        return task.Id;
    }
}
