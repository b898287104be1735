using Microsoft.EntityFrameworkCore;
using System.Net;
using System.Security.Cryptography;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Portal.Contracts;
using Portal.Testing;
using Portal.Web.Features.Agents;
using Portal.Web.Features.Runs;
using Portal.Web.Infrastructure;
using Portal.Web.Tests.Agents;

namespace Portal.Web.Tests.Runs;

public sealed class RunLifecycleTests : IClassFixture<PortalAppFactory>
{
    private readonly PortalAppFactory _app;

    public RunLifecycleTests(PortalAppFactory app)
    {
        _app = app;
        AgentTestData.UseFastHeartbeats(app);
        app.Settings["Portal:Runs:MaxArtifactBytes"] = "100000";
    }

    private async Task<JobAssignment> TakeAsync(TestAgent agent, long runId)
    {
        JobAssignment? job;
        do
        {
            job = await agent.TakeJobAsync();
            if (job is not null && job.RunId != runId) await agent.FinishAsync(job.RunId, RunOutcomeStatus.Cancelled, 0);
        } while (job is not null && job.RunId != runId);
        return Assert.IsType<JobAssignment>(job);
    }

    [Fact]
    public async Task Queueing_a_run_nudges_idle_agents_and_the_agent_gets_the_recipe_config_and_seed()
    {
        var (_, token) = await AgentTestData.CreateTokenAsync(_app);
        await using var agent = await TestAgent.ConnectAsync(_app.ServerAddress, token, "nudged-box");
        var before = agent.JobAvailableCount;
        var runId = await AgentTestData.QueueRunAsync(_app, """{"steps": 30, "batchSize": 4}""");
        await AgentTestData.EventuallyAsync(() => Task.FromResult(agent.JobAvailableCount > before), "JobAvailable pushed");
        var job = await TakeAsync(agent, runId);
        Assert.Equal("detector", job.Recipe);
        Assert.Contains("\"batchSize\": 4", job.ConfigJson);
        Assert.Equal(3, job.Seed);
        Assert.Null(job.ResumeFromStep);
        var run = await AgentTestData.RunAsync(_app, runId);
        Assert.Equal(RunStatus.Running, run.Status);
        Assert.Contains("Linux test", run.HardwareJson);
        await agent.FinishAsync(runId, RunOutcomeStatus.Succeeded, 30);
    }

    [Fact]
    public async Task A_malformed_or_invalid_config_is_refused_before_anything_is_queued()
    {
        var before = await _app.WithDbAsync(db => Task.FromResult(db.Runs.Count()));
        var broken = await Assert.ThrowsAsync<PortalError>(() => AgentTestData.QueueRunAsync(_app, "{ steps: "));
        Assert.Equal("The config is not valid JSON: line 1, a setting's name is not in double quotes (\"name\": value).", broken.Message);
        Assert.Equal(nameof(StartRunRequest.ConfigJson), broken.Field);
        Assert.DoesNotContain("BytePositionInLine", broken.Message);
        var unknownKey = await Assert.ThrowsAsync<PortalError>(() => AgentTestData.QueueRunAsync(_app, """{"stepz": 3}"""));
        Assert.Contains("'stepz' is not a setting of this recipe", unknownKey.Message);
        var range = await Assert.ThrowsAsync<PortalError>(() => AgentTestData.QueueRunAsync(_app, """{"learningRate": -1}"""));
        Assert.Contains("learningRate", range.Message);
        var recipe = await Assert.ThrowsAsync<PortalError>(() => AgentTestData.QueueRunAsync(_app, "{}", "transformer"));
        Assert.Contains("Unknown recipe", recipe.Message);
        Assert.Equal(before, await _app.WithDbAsync(db => Task.FromResult(db.Runs.Count())));
    }

    [Fact]
    public async Task Cancelling_a_running_run_pushes_CancelRun_to_its_agent_and_the_run_stays_cancelled()
    {
        var (_, token) = await AgentTestData.CreateTokenAsync(_app);
        await using var agent = await TestAgent.ConnectAsync(_app.ServerAddress, token, "cancel-box");
        var runId = await AgentTestData.QueueRunAsync(_app);
        await TakeAsync(agent, runId);

        var member2 = await AgentTestData.ActorAsync(_app, "member2");
        var refused = await Assert.ThrowsAsync<PortalError>(() => AgentTestData.WithRunsAsync(_app, async r => { await r.CancelAsync(member2, runId); return 0; }));
        Assert.Equal(PortalErrorKind.Forbidden, refused.Kind);

        await AgentTestData.WithRunsAsync(_app, async r => { await r.CancelAsync(await AgentTestData.ActorAsync(_app, "member1"), runId); return 0; });
        await AgentTestData.EventuallyAsync(() => Task.FromResult(agent.Cancels.Contains(runId)), "CancelRun pushed to the agent");
        // The agent confirms: acknowledged, and the cancelled run, being final, takes nothing from it.
        Assert.Null((await agent.FinishAsync(runId, RunOutcomeStatus.Cancelled, 12)).Error);
        var run = await AgentTestData.RunAsync(_app, runId);
        Assert.Equal(RunStatus.Cancelled, run.Status);
        Assert.Equal(0, run.LastStep);
    }

    [Fact]
    public async Task An_agent_that_stops_heartbeating_loses_its_run_which_resumes_elsewhere_from_its_checkpoint_without_duplicates()
    {
        // This test is about resuming by hand: the project restarts no Lost run by itself.
        await _app.WithDbAsync(async db => await db.Projects.Where(p => p.Name == DemoShapesProject.ProjectName)
            .ExecuteUpdateAsync(u => u.SetProperty(p => p.LostRunRestarts, 0)));
        var (_, token) = await AgentTestData.CreateTokenAsync(_app);
        var first = await TestAgent.ConnectAsync(_app.ServerAddress, token, "doomed-box");
        var runId = await AgentTestData.QueueRunAsync(_app);
        await TakeAsync(first, runId);
        Assert.Null((await first.SendAsync(runId, 1, TestAgent.Points("loss", 0, 79))).Error);
        var checkpoint = RandomNumberGenerator.GetBytes(5000);
        var sha = Convert.ToHexStringLower(SHA256.HashData(checkpoint));
        var upload = await first.Http.PostAsync(AgentProtocol.ArtifactUploadPath(runId, "checkpoint") + $"?fileName=step-50.pt&sha256={sha}&step=50",
            new ByteArrayContent(checkpoint));
        Assert.Equal(HttpStatusCode.OK, upload.StatusCode);
        await first.Hub.InvokeAsync(nameof(IAgentHub.CheckpointSaved), new CheckpointInfo(runId, 50, sha, checkpoint.Length));
        await first.DisposeAsync(); // killed: no more heartbeats

        await AgentTestData.EventuallyAsync(async () => (await AgentTestData.RunAsync(_app, runId)).Status == RunStatus.Lost, "the run goes Lost", 15);
        Assert.Contains("No heartbeat", (await AgentTestData.RunAsync(_app, runId)).FailureReason);

        await AgentTestData.WithRunsAsync(_app, async r => { await r.ResumeAsync(await AgentTestData.ActorAsync(_app, "member1"), runId); return 0; });
        var afterResume = await AgentTestData.RunAsync(_app, runId);
        Assert.Equal(RunStatus.Queued, afterResume.Status);
        Assert.Equal(51, await AgentTestData.PointCountAsync(_app, runId)); // steps 0..50 kept, 51..79 removed

        await using var second = await TestAgent.ConnectAsync(_app.ServerAddress, token, "rescue-box");
        var job = await TakeAsync(second, runId);
        Assert.Equal(50, job.ResumeFromStep);
        var download = await second.Http.GetByteArrayAsync(AgentProtocol.CheckpointDownloadPath(runId));
        Assert.Equal(checkpoint, download);
        Assert.Null((await second.SendAsync(runId, 1, TestAgent.Points("loss", 51, 99))).Error);
        await second.FinishAsync(runId, RunOutcomeStatus.Succeeded, 99);

        Assert.Equal(100, await AgentTestData.PointCountAsync(_app, runId));
        var steps = await _app.WithDbAsync(db => Task.FromResult(db.MetricPoints.Where(p => p.RunId == runId).Select(p => p.Step).ToList()));
        Assert.Equal(Enumerable.Range(0, 100).Select(i => (long)i), steps.Order());
        Assert.Equal(RunStatus.Succeeded, (await AgentTestData.RunAsync(_app, runId)).Status);
    }

    [Fact]
    public async Task A_run_without_a_checkpoint_or_still_running_cannot_be_resumed()
    {
        var (_, token) = await AgentTestData.CreateTokenAsync(_app);
        await using var agent = await TestAgent.ConnectAsync(_app.ServerAddress, token, "no-checkpoint-box");
        var runId = await AgentTestData.QueueRunAsync(_app);
        await TakeAsync(agent, runId);
        var member1 = await AgentTestData.ActorAsync(_app, "member1");
        var running = await Assert.ThrowsAsync<PortalError>(() => AgentTestData.WithRunsAsync(_app, async r => { await r.ResumeAsync(member1, runId); return 0; }));
        Assert.Contains("Only a Lost or Failed run", running.Message);
        await agent.FinishAsync(runId, RunOutcomeStatus.Failed, 3, error: "out of memory");
        var none = await Assert.ThrowsAsync<PortalError>(() => AgentTestData.WithRunsAsync(_app, async r => { await r.ResumeAsync(member1, runId); return 0; }));
        Assert.Contains("no checkpoint", none.Message);
    }

    [Fact]
    public async Task Artifacts_are_stored_with_their_hash_refused_over_the_limit_and_downloadable_by_signed_in_users()
    {
        var (_, token) = await AgentTestData.CreateTokenAsync(_app);
        await using var agent = await TestAgent.ConnectAsync(_app.ServerAddress, token, "artifact-box");
        var runId = await AgentTestData.QueueRunAsync(_app);
        await TakeAsync(agent, runId);

        var config = "{\"steps\": 20}"u8.ToArray();
        var ok = await agent.Http.PostAsync(AgentProtocol.ArtifactUploadPath(runId, "config") + "?fileName=config.json", new ByteArrayContent(config));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var tooBig = await agent.Http.PostAsync(AgentProtocol.ArtifactUploadPath(runId, "checkpoint") + "?step=1", new ByteArrayContent(new byte[100_001]));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBig.StatusCode);
        Assert.Contains("larger than the limit", await tooBig.Content.ReadAsStringAsync());
        var damaged = await agent.Http.PostAsync(AgentProtocol.ArtifactUploadPath(runId, "checkpoint") + $"?step=1&sha256={new string('0', 64)}", new ByteArrayContent(new byte[10]));
        Assert.Equal(HttpStatusCode.BadRequest, damaged.StatusCode);
        var kind = await agent.Http.PostAsync(AgentProtocol.ArtifactUploadPath(runId, "weights"), new ByteArrayContent(new byte[10]));
        Assert.Equal(HttpStatusCode.BadRequest, kind.StatusCode);

        var details = await AgentTestData.WithRunsAsync(_app, r => r.GetAsync(runId));
        var artifact = Assert.Single(details.Artifacts);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(config)), artifact.Sha256);

        using var member = await SignedInClient.CreateAsync(_app.ServerAddress, "member3");
        Assert.Equal(config, await member.GetByteArrayAsync(RunEndpoints.DownloadPath(artifact)));
        using var anonymous = SignedInClient.CreateAnonymous(_app.ServerAddress);
        Assert.NotEqual(HttpStatusCode.OK, (await anonymous.GetAsync(RunEndpoints.DownloadPath(artifact))).StatusCode);
        await agent.FinishAsync(runId, RunOutcomeStatus.Succeeded, 20);
    }
}
