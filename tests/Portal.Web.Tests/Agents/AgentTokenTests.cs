using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Portal.Contracts;
using Portal.Testing;
using Portal.Web.Features.Agents;
using Portal.Web.Infrastructure;

namespace Portal.Web.Tests.Agents;

public sealed class AgentTokenTests(PortalAppFactory app) : IClassFixture<PortalAppFactory>
{
    [Fact]
    public async Task An_agent_with_a_valid_token_registers_and_is_listed_with_its_hardware()
    {
        var (_, token) = await AgentTestData.CreateTokenAsync(app);
        await using var agent = await TestAgent.ConnectAsync(app.ServerAddress, token, "gpu-box-1");
        Assert.True(agent.Welcome.AgentId > 0);
        using var scope = app.Services.CreateScope();
        var rows = await scope.ServiceProvider.GetRequiredService<AgentDirectory>().ListAsync();
        var row = Assert.Single(rows, r => r.Agent.Name == "gpu-box-1");
        Assert.Equal(AgentStatus.Idle, row.Status);
        Assert.Equal(2, row.Agent.CpuCores);
        Assert.Equal("2.10.0", row.Agent.TorchVersion);
    }

    [Fact]
    public async Task A_hub_connection_without_a_token_or_with_an_unknown_one_is_refused()
    {
        await using var none = new HubConnectionBuilder().WithUrl(new Uri(app.ServerAddress, "hubs/agents")).AddMessagePackProtocol().Build();
        var e1 = await Assert.ThrowsAsync<HttpRequestException>(() => none.StartAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, e1.StatusCode);

        await using var unknown = TestAgent.Connection(app.ServerAddress, "not-a-token");
        var e2 = await Assert.ThrowsAsync<HttpRequestException>(() => unknown.StartAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, e2.StatusCode);
    }

    [Fact]
    public async Task A_revoked_token_is_refused_and_its_open_connection_is_cut()
    {
        var (id, token) = await AgentTestData.CreateTokenAsync(app, "to revoke");
        await using var agent = await TestAgent.ConnectAsync(app.ServerAddress, token, "revoked-box", heartbeat: false);
        var closed = new TaskCompletionSource();
        agent.Hub.Closed += _ => { closed.TrySetResult(); return Task.CompletedTask; };

        using (var scope = app.Services.CreateScope())
            await scope.ServiceProvider.GetRequiredService<AgentTokenService>().RevokeAsync(await AgentTestData.ActorAsync(app, "techlead"), id);

        await closed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await using var again = TestAgent.Connection(app.ServerAddress, token);
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => again.StartAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);

        using var http = new HttpClient { BaseAddress = app.ServerAddress };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var response = await http.GetAsync(AgentProtocol.CheckpointDownloadPath(1));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("revoked", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_signed_in_user_cannot_reach_the_agent_hub_or_the_agent_api()
    {
        using var client = await SignedInClient.CreateAsync(app.ServerAddress, "techlead");
        var negotiate = await client.PostAsync("hubs/agents/negotiate?negotiateVersion=1", null);
        Assert.Equal(HttpStatusCode.Unauthorized, negotiate.StatusCode);
        var checkpoint = await client.GetAsync(AgentProtocol.CheckpointDownloadPath(1));
        Assert.Equal(HttpStatusCode.Unauthorized, checkpoint.StatusCode);
    }

    [Fact]
    public async Task An_agent_token_opens_no_page()
    {
        var (_, token) = await AgentTestData.CreateTokenAsync(app);
        using var http = SignedInClient.CreateAnonymous(app.ServerAddress);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var page = await http.GetAsync("agents");
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.StartsWith("/account/login", page.Headers.Location!.AbsolutePath);
    }

    [Fact]
    public async Task Only_an_admin_creates_tokens_and_the_secret_is_stored_only_as_its_hash()
    {
        using var scope = app.Services.CreateScope();
        var tokens = scope.ServiceProvider.GetRequiredService<AgentTokenService>();
        var member = await AgentTestData.ActorAsync(app, "member2");
        var refused = await Assert.ThrowsAsync<PortalError>(() => tokens.CreateAsync(member, "mine"));
        Assert.Equal(PortalErrorKind.Forbidden, refused.Kind);

        var created = await tokens.CreateAsync(await AgentTestData.ActorAsync(app, "techlead"), "lab machine");
        var stored = await app.WithDbAsync(db => Task.FromResult(db.AgentTokens.Single(t => t.Id == created.Id)));
        Assert.Equal(AgentAuth.Hash(created.Secret), stored.TokenHash);
        Assert.DoesNotContain(created.Secret, stored.TokenHash);
        await using var agent = await TestAgent.ConnectAsync(app.ServerAddress, created.Secret, "lab-machine");
        Assert.True(agent.Welcome.AgentId > 0);
    }

    [Fact]
    public async Task An_agent_name_cannot_be_taken_over_with_another_token()
    {
        var (_, first) = await AgentTestData.CreateTokenAsync(app);
        var (_, second) = await AgentTestData.CreateTokenAsync(app);
        await using var owner = await TestAgent.ConnectAsync(app.ServerAddress, first, "named-box", instanceId: "named-box-process");
        var e = await Assert.ThrowsAsync<HubException>(() => TestAgent.ConnectAsync(app.ServerAddress, second, "named-box"));
        Assert.Contains("registered with another token", e.Message);
        // The same process reconnecting (its old connection not yet closed) keeps its agent.
        await using var again = await TestAgent.ConnectAsync(app.ServerAddress, first, "named-box", instanceId: "named-box-process");
        Assert.Equal(owner.Welcome.AgentId, again.Welcome.AgentId);
    }

    [Fact]
    public async Task A_second_live_agent_with_the_same_name_and_token_is_refused_and_the_first_keeps_its_run()
    {
        var (_, token) = await AgentTestData.CreateTokenAsync(app);
        await using var first = await TestAgent.ConnectAsync(app.ServerAddress, token, "twin-box");
        var runId = await AgentTestData.QueueRunAsync(app);
        await first.TakeJobForAsync(runId);

        var twin = await Assert.ThrowsAsync<HubException>(() => TestAgent.ConnectAsync(app.ServerAddress, token, "twin-box"));
        Assert.Contains("already connected", twin.Message);
        Assert.Contains("another --name", twin.Message);

        // The first is untouched: still connected, still holding its run, still delivering.
        Assert.Equal(HubConnectionState.Connected, first.Hub.State);
        Assert.Null((await first.SendAsync(runId, 1, TestAgent.Points("loss", 0, 4))).Error);
        Assert.Equal(first.Welcome.AgentId, (await AgentTestData.RunAsync(app, runId)).AgentId);
        Assert.Null((await first.FinishAsync(runId, RunOutcomeStatus.Succeeded, 4)).Error);

        // Once the first has gone, the name is free again.
        await first.DisposeAsync();
        await AgentTestData.EventuallyAsync(() => app.WithDbAsync(db => Task.FromResult(!db.Agents.Single(a => a.Name == "twin-box").IsConnected)),
            "the portal sees the first agent gone");
        await using var next = await TestAgent.ConnectAsync(app.ServerAddress, token, "twin-box");
        Assert.Equal(first.Welcome.AgentId, next.Welcome.AgentId);
    }

    [Fact]
    public async Task Calls_before_registering_are_refused_with_a_reason()
    {
        var (_, token) = await AgentTestData.CreateTokenAsync(app);
        await using var hub = TestAgent.Connection(app.ServerAddress, token);
        await hub.StartAsync();
        var e = await Assert.ThrowsAsync<HubException>(() => hub.InvokeAsync<JobAssignment?>(nameof(IAgentHub.TakeJob)));
        Assert.Contains("Register first", e.Message);
    }
}
