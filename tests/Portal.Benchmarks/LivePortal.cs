using System.Net;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Portal.Contracts;
using Portal.Testing;
using Portal.Web.Features.Agents;
using Portal.Web.Features.Curves;
using Portal.Web.Features.Runs;
using Portal.Web.Infrastructure;

namespace Portal.Benchmarks;

/// <summary>
/// The real ends of the live metric path, shared by the ingestion and curve benchmarks: a portal on Kestrel, agents
/// that connect to /hubs/agents as the agent program does (agent token, MessagePack, Register, TakeJob on a queued
/// run) and viewers that connect to /hubs/metrics as the browser's chart does (JSON, sign-in cookie, Watch).
/// </summary>
internal static class LivePortal
{
    /// <summary>The factory, with the web project's content root named explicitly (a console app is no test assembly it can read it from).</summary>
    public static PortalAppFactory CreateApp()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Portal.sln"))) dir = dir.Parent;
        if (dir is not null) Environment.SetEnvironmentVariable("ASPNETCORE_TEST_CONTENTROOT_PORTAL_WEB", Path.Combine(dir.FullName, "src", "Portal.Web"));
        var app = new PortalAppFactory();
        app.Settings["Logging:LogLevel:Default"] = "Warning";
        // A benchmark's agents send no heartbeats between batches; their runs must not be declared lost meanwhile.
        app.Settings["Portal:Runs:LostAfterSeconds"] = "600";
        return app;
    }

    /// <summary>Signs in through the real form and returns the cookie jar (shared by every viewer connection).</summary>
    public static async Task<CookieContainer> SignInAsync(Uri server, string userName)
    {
        var cookies = new CookieContainer();
        using var client = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = server };
        var token = await SignedInClient.GetAntiforgeryTokenAsync(client, "account/login");
        var response = await client.PostAsync("account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["username"] = userName, ["password"] = SignedInClient.DemoPassword, ["returnUrl"] = "/", ["__RequestVerificationToken"] = token,
        }));
        if (response.StatusCode != HttpStatusCode.Redirect) throw new InvalidOperationException($"Sign-in failed: {response.StatusCode}");
        return cookies;
    }

    /// <summary>An agent token stored the way an admin creates one; returns its secret.</summary>
    public static async Task<string> AddAgentTokenAsync(PortalAppFactory app)
    {
        var secret = "bench-" + Guid.NewGuid().ToString("N");
        await using var db = await app.DbFactory.CreateDbContextAsync();
        await AgentTokenService.AddAsync(db, "benchmark", secret, "bench", DateTimeOffset.UtcNow);
        return secret;
    }

    /// <summary>
    /// Queues a run as member1 would from the page, then connects an agent that registers and takes it: the
    /// returned connection may send that run's metrics.
    /// </summary>
    public static async Task<(HubConnection Hub, long RunId)> ConnectAgentWithRunAsync(PortalAppFactory app, string secret, string agentName, int seed)
    {
        var projectId = await app.WithDbAsync(db => Task.FromResult(db.Projects.OrderBy(p => p.Id).Select(p => p.Id).First()));
        var member = await app.WithDbAsync(db => Task.FromResult(db.Users.Where(u => u.UserName == "member1").Select(u => u.Id).First()));
        using (var scope = app.Services.CreateScope())
            await scope.ServiceProvider.GetRequiredService<RunService>().StartAsync(
                new Actor(member, "member1", new HashSet<string> { "Member" }), projectId, new StartRunRequest("detector", "{}", seed, null, null));
        var hub = new HubConnectionBuilder()
            .WithUrl(new Uri(app.ServerAddress, AgentProtocol.HubPath.TrimStart('/')), o => o.AccessTokenProvider = () => Task.FromResult<string?>(secret))
            .AddMessagePackProtocol()
            .Build();
        await hub.StartAsync();
        await hub.InvokeAsync<AgentWelcome>(nameof(IAgentHub.Register), new AgentHello(agentName,
            new AgentHardware(Environment.ProcessorCount, 0, null, null, false, "-", "bench"), 1, [], "bench"));
        var job = await hub.InvokeAsync<JobAssignment?>(nameof(IAgentHub.TakeJob)) ?? throw new InvalidOperationException("The agent got no job.");
        return (hub, job.RunId);
    }

    /// <summary>Sends one batch and fails loudly unless every point was accepted.</summary>
    public static async Task SendAsync(HubConnection agent, long runId, long sequence, IReadOnlyList<MetricPointDto> points)
    {
        var ack = await agent.InvokeAsync<MetricBatchAck>(nameof(IAgentHub.SendMetrics), new MetricBatch(runId, sequence, points));
        if (ack.Error is not null || ack.Accepted != points.Count)
            throw new InvalidOperationException(ack.Error ?? $"Only {ack.Accepted} of {points.Count} points accepted.");
    }

    /// <summary>
    /// A chart's live feed: /hubs/metrics over the default JSON protocol with the sign-in cookie, watching
    /// <paramref name="metric"/> (every metric when null) of each run; <paramref name="onPoints"/> gets each message
    /// (still packed: a viewer decodes it with <see cref="LivePoints.Decode"/>, as the browser unpacks it).
    /// </summary>
    public static async Task<HubConnection> ConnectViewerAsync(Uri server, CookieContainer cookies, IEnumerable<long> runIds, string? metric,
        Action<LivePoints> onPoints)
    {
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(server, MetricsHub.Path.TrimStart('/')), o => o.Cookies = cookies)
            .Build();
        connection.On(nameof(IMetricsViewer.Points), onPoints);
        await connection.StartAsync();
        foreach (var runId in runIds) await connection.InvokeAsync(nameof(MetricsHub.Watch), runId, metric);
        return connection;
    }
}
