using System.Net;
using Microsoft.AspNetCore.SignalR.Client;
using Portal.Contracts;
using Portal.Testing;
using Portal.Web.Tests.Agents;

namespace Portal.Web.Tests.Runs;

/// <summary>The run, agent and token pages as a signed-in user gets them from the server (prerendered).</summary>
public sealed class RunPagesTests(PortalAppFactory app) : IClassFixture<PortalAppFactory>
{
    [Fact]
    public async Task The_runs_page_lists_the_projects_runs_and_offers_the_recipes_with_their_default_config()
    {
        var runId = await AgentTestData.QueueRunAsync(app, """{"steps": 25}""");
        var projectId = await AgentTestData.ShapesProjectIdAsync(app);
        using var member = await SignedInClient.CreateAsync(app.ServerAddress, "member4");
        var html = WebUtility.HtmlDecode(await member.GetStringAsync($"projects/{projectId}/runs"));
        Assert.Contains($"#{runId}", html);
        Assert.Contains("Queue run", html);
        Assert.Contains("\"trainImages\"", html); // the detector's default config prefilled
    }

    [Fact]
    public async Task The_run_page_shows_config_agent_hardware_log_final_metrics_and_artifacts()
    {
        var (_, token) = await AgentTestData.CreateTokenAsync(app);
        await using var agent = await TestAgent.ConnectAsync(app.ServerAddress, token, "page-box");
        var runId = await AgentTestData.QueueRunAsync(app, """{"steps": 25}""");
        await agent.TakeJobForAsync(runId);
        await agent.Hub.InvokeAsync(nameof(IAgentHub.AppendLog), new RunLogLines(runId, ["Step 10/25: loss 0.5"]));
        await agent.Http.PostAsync(AgentProtocol.ArtifactUploadPath(runId, "config") + "?fileName=config.json", new ByteArrayContent("{}"u8.ToArray()));
        await agent.FinishAsync(runId, RunOutcomeStatus.Succeeded, 25, new() { ["AP50"] = 0.4321, ["loss"] = double.PositiveInfinity });

        using var member = await SignedInClient.CreateAsync(app.ServerAddress, "member5");
        var html = WebUtility.HtmlDecode(await member.GetStringAsync($"runs/{runId}"));
        Assert.Contains("Succeeded", html);
        Assert.Contains("\"steps\": 25", html);
        Assert.Contains("page-box", html);
        Assert.Contains("Linux test", html);
        Assert.Contains("Step 10/25: loss 0.5", html);
        Assert.Contains("0.4321", html);
        Assert.Contains("+inf", html);
        Assert.Contains("config.json", html);
    }

    [Fact]
    public async Task The_agents_page_shows_each_agent_with_its_status_and_the_token_page_is_for_admins_only()
    {
        var (_, token) = await AgentTestData.CreateTokenAsync(app, "visible token");
        await using var agent = await TestAgent.ConnectAsync(app.ServerAddress, token, "listed-box");
        using var member = await SignedInClient.CreateAsync(app.ServerAddress, "member6");
        var agents = WebUtility.HtmlDecode(await member.GetStringAsync("agents"));
        Assert.Contains("listed-box", agents);
        Assert.Contains("idle", agents);

        var tokensAsMember = await member.GetAsync("admin/agent-tokens");
        Assert.DoesNotContain("visible token", await tokensAsMember.Content.ReadAsStringAsync());
        using var admin = await SignedInClient.CreateAsync(app.ServerAddress, "techlead");
        var tokens = WebUtility.HtmlDecode(await admin.GetStringAsync("admin/agent-tokens"));
        Assert.Contains("visible token", tokens);
        Assert.DoesNotContain(token, tokens);
    }
}
