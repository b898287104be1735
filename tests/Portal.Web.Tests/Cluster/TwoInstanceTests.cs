using System.Collections.Concurrent;
using System.Net;
using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Portal.Contracts;
using Portal.Testing;
using Portal.Web.Features.Curves;
using Portal.Web.Features.Runs;
using Portal.Web.Features.Tasks;
using Portal.Web.Infrastructure;
using Portal.Web.Tests.Agents;

namespace Portal.Web.Tests.Cluster;

/// <summary>Several instances behind a load balancer: live updates cross instances, and nothing is done twice or lost.</summary>
public sealed class TwoInstanceTests : IAsyncLifetime
{
    private TwoInstances _cluster = null!;

    public Task InitializeAsync()
    {
        _cluster = new TwoInstances();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task A_claim_made_on_one_instance_reaches_the_boards_open_on_the_other()
    {
        var (a, b) = (_cluster.A, _cluster.B);
        var projectId = await AgentTestData.ShapesProjectIdAsync(a);
        var member = await AgentTestData.ActorAsync(a, "member1");
        long taskId;
        await using (var db = await a.DbFactory.CreateDbContextAsync())
        {
            var task = new Portal.Web.Features.Tasks.ProjectTask
            {
                ProjectId = projectId, Title = "Anchors per level", Component = ModelComponent.DataPipeline,
                Stage = Portal.Web.Features.Projects.ReproductionStage.PaperAnalysis, Status = ProjectTaskStatus.Open,
                CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow,
            };
            db.Tasks.Add(task);
            await db.SaveChangesAsync();
            taskId = task.Id;
        }
        var seenOnB = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = b.Services.GetRequiredService<LiveUpdates>().Subscribe(Topics.Project(projectId), () =>
        {
            seenOnB.TrySetResult();
            return Task.CompletedTask;
        });

        using (var scope = a.Services.CreateScope())
            await scope.ServiceProvider.GetRequiredService<TaskClaims>().ClaimAsync(member, taskId);

        await seenOnB.Task.WaitAsync(TimeSpan.FromSeconds(20));
        var holder = await b.WithDbAsync(db => Task.FromResult(db.Tasks.Single(t => t.Id == taskId).AssigneeId));
        Assert.Equal(member.UserId, holder);
    }

    [Fact]
    public async Task Points_an_agent_sends_to_one_instance_reach_a_viewer_on_the_other()
    {
        var (a, b) = (_cluster.A, _cluster.B);
        var (_, token) = await AgentTestData.CreateTokenAsync(a);
        var runId = await AgentTestData.QueueRunAsync(a);
        await using var agent = await TestAgent.ConnectAsync(a.ServerAddress, token, "box-on-a");
        Assert.Equal(runId, (await agent.TakeJobAsync())!.RunId);

        await using var viewer = await ViewerAsync(b, "mentor1");
        var received = Channel.CreateUnbounded<LivePoints>();
        viewer.On<LivePoints>(nameof(IMetricsViewer.Points), p => received.Writer.TryWrite(p));
        await viewer.InvokeAsync("Watch", runId, "loss");

        Assert.Null((await agent.SendAsync(runId, 0, TestAgent.Points("loss", 0, 9))).Error);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var message = await received.Reader.ReadAsync(timeout.Token);
        Assert.Equal((runId, "loss", 10), (message.RunId, message.Metric, message.Count));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), message.Decode().Steps);
    }

    [Fact]
    public async Task A_hundred_jobs_taken_by_four_agents_on_two_instances_are_each_run_once()
    {
        var (a, b) = (_cluster.A, _cluster.B);
        var (_, token) = await AgentTestData.CreateTokenAsync(a);
        var queued = new List<long>();
        for (var i = 0; i < 100; i++) queued.Add(await AgentTestData.QueueRunAsync(i % 2 == 0 ? a : b));

        var taken = new ConcurrentBag<(string Agent, long RunId)>();
        var agents = new[] { (a, "a-1"), (a, "a-2"), (b, "b-1"), (b, "b-2") };
        await Task.WhenAll(agents.Select(async x =>
        {
            await using var agent = await TestAgent.ConnectAsync(x.Item1.ServerAddress, token, x.Item2);
            while (await agent.TakeJobAsync() is { } job)
            {
                taken.Add((x.Item2, job.RunId));
                Assert.Null((await agent.SendAsync(job.RunId, 0, TestAgent.Points("loss", 0, 4))).Error);
                Assert.Null((await agent.FinishAsync(job.RunId, RunOutcomeStatus.Succeeded, 4)).Error);
            }
        }));

        Assert.Equal(queued.Order(), taken.Select(t => t.RunId).Order());
        var runs = await a.WithDbAsync(db => Task.FromResult(db.Runs.Where(r => queued.Contains(r.Id)).ToList()));
        Assert.All(runs, r => Assert.Equal(RunStatus.Succeeded, r.Status));
        var points = await a.WithDbAsync(db => Task.FromResult(db.MetricPoints.Count(p => queued.Contains(p.RunId))));
        Assert.Equal(100 * 5, points);
    }

    [Fact]
    public async Task An_instance_killed_mid_run_loses_no_point_and_stores_none_twice_when_the_agent_moves_to_the_other()
    {
        const int PerBatch = 50;
        var (a, b) = (_cluster.A, _cluster.B);
        var (_, token) = await AgentTestData.CreateTokenAsync(a);
        var runId = await AgentTestData.QueueRunAsync(a);
        var next = 0;
        await using (var agent = await TestAgent.ConnectAsync(a.ServerAddress, token, "moving-box"))
        {
            Assert.Equal(runId, (await agent.TakeJobAsync())!.RunId);
            var sending = Task.Run(async () =>
            {
                try
                {
                    // Sends until A goes away, so A is always killed mid-run, however fast it stores.
                    while (true)
                    {
                        if ((await agent.SendAsync(runId, next, Batch(next))).Error is not null) return;
                        next++;
                    }
                }
                catch (Exception) { /* A went away: unacknowledged batches stay in the agent's outbox */ }
            });
            await AgentTestData.EventuallyAsync(() => Task.FromResult(next >= 10), "some batches acknowledged by A");
            await a.DisposeAsync();
            await sending;
        }
        Assert.True(next >= 10, $"{next} batches acknowledged by A");
        var batches = next + 10; // the run goes on at B for a while

        await using (var agent = await TestAgent.ConnectAsync(b.ServerAddress, token, "moving-box", running: [runId]))
        {
            Assert.Empty(agent.Welcome.RunsToCancel);
            for (var batch = Math.Max(0, next - 2); batch < batches; batch++) // the last acknowledged ones again, as an outbox may
                Assert.Null((await agent.SendAsync(runId, batch, Batch(batch))).Error);
            Assert.Null((await agent.FinishAsync(runId, RunOutcomeStatus.Succeeded, batches * PerBatch - 1)).Error);
        }

        Assert.Equal(batches * PerBatch, await AgentTestData.PointCountAsync(b, runId));
        Assert.Equal(RunStatus.Succeeded, (await AgentTestData.RunAsync(b, runId)).Status);
        static IEnumerable<MetricPointDto> Batch(int batch) => TestAgent.Points("loss", batch * PerBatch, (batch + 1) * PerBatch - 1);
    }

    internal static async Task<HubConnection> ViewerAsync(PortalAppFactory app, string userName)
    {
        var cookies = new CookieContainer();
        using (var client = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = app.ServerAddress })
        {
            var token = await SignedInClient.GetAntiforgeryTokenAsync(client, "account/login");
            await client.PostAsync("account/login", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["username"] = userName, ["password"] = SignedInClient.DemoPassword, ["returnUrl"] = "/", ["__RequestVerificationToken"] = token,
            }));
        }
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(app.ServerAddress, MetricsHub.Path.TrimStart('/')), o => o.Cookies = cookies)
            .Build();
        await connection.StartAsync();
        return connection;
    }
}
