using System.Net;
using System.Security.Cryptography;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;
using Portal.Contracts;
using Portal.Testing;
using Portal.Web.Features.Agents;
using Portal.Web.Features.Runs;
using Portal.Web.Tests.Agents;

namespace Portal.Web.Tests.Runs;

/// <summary>The project's automatic restart of Lost runs, against the real server and hub, with agents that stop heartbeating.</summary>
public sealed class LostRunRestartsTests : IClassFixture<PortalAppFactory>
{
    private readonly PortalAppFactory _app;

    public LostRunRestartsTests(PortalAppFactory app)
    {
        _app = app;
        AgentTestData.UseFastHeartbeats(app);
    }

    private async Task CheckpointAsync(TestAgent agent, long runId, long step)
    {
        var checkpoint = RandomNumberGenerator.GetBytes(1000);
        var sha = Convert.ToHexStringLower(SHA256.HashData(checkpoint));
        var upload = await agent.Http.PostAsync(AgentProtocol.ArtifactUploadPath(runId, "checkpoint") + $"?fileName=step-{step}.pt&sha256={sha}&step={step}",
            new ByteArrayContent(checkpoint));
        Assert.Equal(HttpStatusCode.OK, upload.StatusCode);
        await agent.Hub.InvokeAsync(nameof(IAgentHub.CheckpointSaved), new CheckpointInfo(runId, step, sha, checkpoint.Length));
    }

    private async Task SetLimitAsync(int restarts) =>
        await _app.WithDbAsync(async db => await db.Projects.Where(p => p.Name == DemoShapesProject.ProjectName)
            .ExecuteUpdateAsync(s => s.SetProperty(p => p.LostRunRestarts, restarts)));

    [Fact]
    public async Task A_lost_run_is_queued_again_from_its_checkpoint_up_to_the_projects_limit_and_then_stays_lost_with_its_history()
    {
        await SetLimitAsync(1);
        var (_, token) = await AgentTestData.CreateTokenAsync(_app);
        var runId = await AgentTestData.QueueRunAsync(_app);

        var first = await TestAgent.ConnectAsync(_app.ServerAddress, token, "restart-box-1");
        await first.TakeJobForAsync(runId);
        Assert.Null((await first.SendAsync(runId, 1, TestAgent.Points("loss", 0, 39))).Error);
        await CheckpointAsync(first, runId, 30);
        await first.DisposeAsync(); // killed: no more heartbeats

        await AgentTestData.EventuallyAsync(async () => (await AgentTestData.RunAsync(_app, runId)).AutoRestarts == 1, "the run is restarted automatically", 20);
        var restarted = await AgentTestData.RunAsync(_app, runId);
        Assert.Equal(RunStatus.Queued, restarted.Status);
        Assert.Equal(30, restarted.ResumeFromStep);
        Assert.Equal(31, await AgentTestData.PointCountAsync(_app, runId));

        var second = await TestAgent.ConnectAsync(_app.ServerAddress, token, "restart-box-2");
        Assert.Equal(30, (await second.TakeJobForAsync(runId)).ResumeFromStep);
        await second.DisposeAsync(); // lost again: over the limit of 1, it stays Lost

        await AgentTestData.EventuallyAsync(async () =>
            (await _app.WithDbAsync(db => db.RunLogLines.AnyAsync(l => l.RunId == runId && l.Text.Contains("stays Lost")))), "the run stays Lost", 20);
        var lost = await AgentTestData.RunAsync(_app, runId);
        Assert.Equal(RunStatus.Lost, lost.Status);
        Assert.Equal(1, lost.AutoRestarts);

        var details = await AgentTestData.WithRunsAsync(_app, r => r.GetAsync(runId));
        var restart = Assert.Single(details.Restarts!);
        Assert.True(restart.Automatic);
        Assert.Equal(30, restart.FromStep);
        Assert.Contains("No heartbeat", restart.Reason);
        var feed = await _app.WithDbAsync(db => db.Activity.Where(a => a.Text.Contains($"run #{runId} ")).Select(a => a.Text).ToListAsync());
        Assert.Contains(feed, t => t.Contains("restarted automatically from the checkpoint at step 30 (restart 1 of 1)"));
        Assert.Contains(feed, t => t.Contains("stays Lost"));

        // A person can still resume it by hand; that is recorded too, as not automatic.
        await AgentTestData.WithRunsAsync(_app, async r => { await r.ResumeAsync(await AgentTestData.ActorAsync(_app, "member1"), runId); return 0; });
        var history = (await AgentTestData.WithRunsAsync(_app, r => r.GetAsync(runId))).Restarts!;
        Assert.Equal([true, false], history.Select(h => h.Automatic));
        await SetLimitAsync(2);
    }

    [Fact]
    public async Task A_lost_run_without_a_checkpoint_stays_lost_and_says_why()
    {
        var (_, token) = await AgentTestData.CreateTokenAsync(_app);
        var runId = await AgentTestData.QueueRunAsync(_app);
        var agent = await TestAgent.ConnectAsync(_app.ServerAddress, token, "no-checkpoint-restart-box");
        await agent.TakeJobForAsync(runId);
        await agent.DisposeAsync();

        await AgentTestData.EventuallyAsync(async () =>
            (await _app.WithDbAsync(db => db.RunLogLines.AnyAsync(l => l.RunId == runId && l.Text.Contains("no checkpoint to resume from")))), "the refusal is logged", 20);
        var run = await AgentTestData.RunAsync(_app, runId);
        Assert.Equal(RunStatus.Lost, run.Status);
        Assert.Equal(0, run.AutoRestarts);
    }
}
