using Portal.Web.Features.Runs;

namespace Portal.EndToEnd.Tests.EndToEnd;

/// <summary>The portal and the real agent training the real detector recipe (tiny configs, a few dozen steps on CPU).</summary>
public sealed class RealAgentTests
{
    private const string Tiny = """{"steps": 40, "batchSize": 4, "trainImages": 32, "valImages": 8, "imageSize": 32, "width": 4, "evalEvery": 20, "checkpointEvery": 10, "logEvery": 10}""";

    [Fact]
    public async Task A_real_agent_trains_a_detector_run_to_the_end_with_every_point_stored_once()
    {
        var port = EndToEndPortal.FreePort();
        using var portal = new EndToEndPortal(port);
        _ = portal.ServerAddress;
        var token = await portal.CreateTokenAsync();
        var runId = await portal.QueueDetectorRunAsync(Tiny);
        await using var agent = await EndToEndPortal.StartAgentAsync(port, token, "e2e-agent", EndToEndPortal.TempFolder("agent"));

        await EndToEndPortal.EventuallyAsync(async () => (await portal.GetRunAsync(runId)).Status == RunStatus.Succeeded, "the run succeeds");
        var details = await portal.Services.CreateScopeAndGet(runId);
        Assert.Equal(Enumerable.Range(1, 40).Select(i => (long)i), (await portal.StepsAsync(runId, "train/loss")).Order());
        Assert.Contains(details.Run.FinalMetrics, m => m.Name == "AP50" && m.Value is >= 0 and <= 1);
        Assert.Equal(40, details.Run.LastStep);
        Assert.Contains(details.Artifacts, a => a.Kind == "checkpoint" && a.Step == 40);
        Assert.Contains(details.Artifacts, a => a.Kind == "config");
        Assert.Contains(details.LogTail, l => l.Text.Contains("Finished at step 40"));
        Assert.Equal("e2e-agent", details.AgentName);
    }

    [Fact]
    public async Task A_portal_restart_mid_run_leaves_the_exact_count_of_points_and_the_run_succeeds()
    {
        var port = EndToEndPortal.FreePort();
        var data = EndToEndPortal.TempFolder("portal");
        string token;
        long runId;
        const string Config = """{"steps": 150, "batchSize": 4, "trainImages": 32, "valImages": 8, "imageSize": 32, "width": 4, "evalEvery": 50, "checkpointEvery": 25, "logEvery": 25}""";
        AgentHostHolder agent = new();
        try
        {
            using (var first = new EndToEndPortal(port, data))
            {
                _ = first.ServerAddress;
                token = await first.CreateTokenAsync();
                runId = await first.QueueDetectorRunAsync(Config);
                agent.Host = await EndToEndPortal.StartAgentAsync(port, token, "restart-agent", EndToEndPortal.TempFolder("agent"));
                await EndToEndPortal.EventuallyAsync(async () => (await first.StepsAsync(runId, "train/loss")).Count >= 10, "training is under way");
            } // the portal stops here; the agent trains on and keeps its points in its outbox

            using var second = new EndToEndPortal(port, data);
            _ = second.ServerAddress;
            await EndToEndPortal.EventuallyAsync(async () => (await second.GetRunAsync(runId)).Status == RunStatus.Succeeded, "the run succeeds after the restart", 180);
            var steps = await second.StepsAsync(runId, "train/loss");
            Assert.Equal(150, steps.Count);
            Assert.Equal(Enumerable.Range(1, 150).Select(i => (long)i), steps.Order());
        }
        finally
        {
            if (agent.Host is not null) await agent.Host.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_killed_agent_leaves_its_run_lost_and_a_new_agent_resumes_it_from_the_checkpoint()
    {
        var port = EndToEndPortal.FreePort();
        using var portal = new EndToEndPortal(port);
        _ = portal.ServerAddress;
        var token = await portal.CreateTokenAsync();
        const string Config = """{"steps": 120, "batchSize": 4, "trainImages": 32, "valImages": 8, "imageSize": 32, "width": 4, "evalEvery": 60, "checkpointEvery": 20, "logEvery": 20}""";
        // Resumed by hand here; AutomationTests covers the automatic restart.
        await portal.SetLostRunRestartsAsync(0);
        var runId = await portal.QueueDetectorRunAsync(Config);

        var doomed = await EndToEndPortal.StartAgentAsync(port, token, "doomed-agent", EndToEndPortal.TempFolder("agent"));
        await EndToEndPortal.EventuallyAsync(async () => (await portal.GetRunAsync(runId)).LastCheckpointStep >= 20, "a checkpoint reached the portal");
        await doomed.KillAsync();

        await EndToEndPortal.EventuallyAsync(async () => (await portal.GetRunAsync(runId)).Status == RunStatus.Lost, "the run goes Lost", 30);
        var checkpoint = (await portal.GetRunAsync(runId)).LastCheckpointStep!.Value;
        await portal.RunAsync((runs, actor) => runs.ResumeAsync(actor, runId));
        Assert.True((await portal.StepsAsync(runId, "train/loss")).All(s => s <= checkpoint));

        await using var rescuer = await EndToEndPortal.StartAgentAsync(port, token, "rescue-agent", EndToEndPortal.TempFolder("agent"));
        await EndToEndPortal.EventuallyAsync(async () => (await portal.GetRunAsync(runId)).Status == RunStatus.Succeeded, "the resumed run succeeds");
        var steps = await portal.StepsAsync(runId, "train/loss");
        Assert.Equal(Enumerable.Range(1, 120).Select(i => (long)i), steps.Order());
        var details = await portal.Services.CreateScopeAndGet(runId);
        Assert.Contains(details.LogTail, l => l.Text.Contains($"Resumed from the checkpoint at step {checkpoint}"));
    }

    [Fact]
    public async Task Cancelling_a_run_stops_the_real_agent_and_the_run_stays_cancelled()
    {
        var port = EndToEndPortal.FreePort();
        using var portal = new EndToEndPortal(port);
        _ = portal.ServerAddress;
        var token = await portal.CreateTokenAsync();
        var runId = await portal.QueueDetectorRunAsync("""{"steps": 100000, "batchSize": 4, "trainImages": 32, "valImages": 8, "imageSize": 32, "width": 4}""");
        await using var agent = await EndToEndPortal.StartAgentAsync(port, token, "cancel-agent", EndToEndPortal.TempFolder("agent"));
        await EndToEndPortal.EventuallyAsync(async () => (await portal.StepsAsync(runId, "train/loss")).Count >= 5, "training is under way");

        await portal.RunAsync((runs, actor) => runs.CancelAsync(actor, runId));
        await EndToEndPortal.EventuallyAsync(() => Task.FromResult(agent.RunningRunIds.Count == 0), "the agent stops training", 30);
        var run = await portal.GetRunAsync(runId);
        Assert.Equal(RunStatus.Cancelled, run.Status);
        Assert.True(run.LastStep < 100000);
    }

    [Fact]
    public async Task Revoking_its_token_disconnects_the_real_agent_and_keeps_it_out()
    {
        var port = EndToEndPortal.FreePort();
        using var portal = new EndToEndPortal(port);
        _ = portal.ServerAddress;
        var token = await portal.CreateTokenAsync();
        await using var agent = await EndToEndPortal.StartAgentAsync(port, token, "revoked-agent", EndToEndPortal.TempFolder("agent"));
        await agent.WaitUntilConnectedAsync().WaitAsync(TimeSpan.FromSeconds(60));

        var tokenId = await portal.WithDbAsync(db => Task.FromResult(db.AgentTokens.Single(t => t.Name == "end-to-end").Id));
        using (var scope = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.CreateScope(portal.Services))
            await Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions
                .GetRequiredService<Portal.Web.Features.Agents.AgentTokenService>(scope.ServiceProvider)
                .RevokeAsync(await portal.ActorAsync("techlead"), tokenId);

        await EndToEndPortal.EventuallyAsync(() => Task.FromResult(!agent.IsConnected), "the agent is disconnected", 30);
        // Its reconnect attempts present the same token, which the portal now refuses with the reason.
        using var http = new HttpClient { BaseAddress = portal.ServerAddress };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        var negotiate = await http.PostAsync("hubs/agents/negotiate?negotiateVersion=1", null);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, negotiate.StatusCode);
        Assert.Contains("revoked", await negotiate.Content.ReadAsStringAsync());
        Assert.False(agent.IsConnected);
    }

    private sealed class AgentHostHolder
    {
        public Portal.Agent.AgentHost? Host;
    }
}

internal static class ServiceProviderExtensions
{
    public static async Task<RunDetails> CreateScopeAndGet(this IServiceProvider services, long runId)
    {
        using var scope = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.CreateScope(services);
        var runs = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<RunService>(scope.ServiceProvider);
        return await runs.GetAsync(runId);
    }
}
