using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Portal.Agent;
using Portal.Testing;
using Portal.Web.Features.Agents;
using Portal.Web.Features.Runs;
using Portal.Web.Infrastructure;

namespace Portal.EndToEnd.Tests.EndToEnd;

/// <summary>
/// A real portal on a fixed port (so that an agent finds it again after a restart) and its data folder, with
/// helpers to start real agents against it.
/// </summary>
public sealed class EndToEndPortal : PortalAppFactory
{
    public EndToEndPortal(int port, string? dataDirectory = null)
    {
        UseKestrel(port);
        if (dataDirectory is not null) Settings["Portal:DataDirectory"] = dataDirectory;
        Settings["Portal:Runs:LostAfterSeconds"] = "3";
        Settings["Portal:Runs:HeartbeatSeconds"] = "1";
    }

    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public async Task<string> CreateTokenAsync()
    {
        var secret = "e2e-" + Guid.NewGuid().ToString("N");
        await using var db = await DbFactory.CreateDbContextAsync();
        await AgentTokenService.AddAsync(db, "end-to-end", secret, "test", DateTimeOffset.UtcNow);
        return secret;
    }

    public async Task<Actor> ActorAsync(string userName)
    {
        await using var db = await DbFactory.CreateDbContextAsync();
        var user = db.Users.Single(u => u.UserName == userName);
        var roles = (from ur in db.UserRoles join r in db.Roles on ur.RoleId equals r.Id where ur.UserId == user.Id select r.Name!).ToHashSet();
        return new Actor(user.Id, user.DisplayName, roles);
    }

    public async Task<long> QueueDetectorRunAsync(string config)
    {
        using var scope = Services.CreateScope();
        var projectId = await WithDbAsync(db => Task.FromResult(db.Projects.Single(p => p.Name == DemoShapesProject.ProjectName).Id));
        return await scope.ServiceProvider.GetRequiredService<RunService>()
            .StartAsync(await ActorAsync("member1"), projectId, new StartRunRequest("detector", config, 11, null, null));
    }

    public async Task RunAsync(Func<RunService, Actor, Task> action)
    {
        using var scope = Services.CreateScope();
        await action(scope.ServiceProvider.GetRequiredService<RunService>(), await ActorAsync("member1"));
    }

    /// <summary>The shapes project's "restart a Lost run up to N times" setting.</summary>
    public Task<int> SetLostRunRestartsAsync(int restarts) =>
        WithDbAsync(db => Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.ExecuteUpdateAsync(
            db.Projects.Where(p => p.Name == DemoShapesProject.ProjectName), s => s.SetProperty(p => p.LostRunRestarts, restarts)));

    public Task<Run> GetRunAsync(long runId) => WithDbAsync(db => Task.FromResult(db.Runs.Single(r => r.Id == runId)));

    public Task<List<long>> StepsAsync(long runId, string metric) =>
        WithDbAsync(db => Task.FromResult(db.MetricPoints.Where(p => p.RunId == runId && p.Name == metric).Select(p => p.Step).ToList()));

    public static Task<AgentHost> StartAgentAsync(int port, string token, string name, string dataDirectory) =>
        AgentHost.StartAsync(new AgentOptions
        {
            PortalUrl = $"http://127.0.0.1:{port}",
            Token = token,
            Name = name,
            DataDirectory = dataDirectory,
            Device = "cpu",
            TorchThreads = 1,
            ReconnectMinDelay = TimeSpan.FromMilliseconds(200),
            ReconnectMaxDelay = TimeSpan.FromSeconds(1),
            JobPollInterval = TimeSpan.FromSeconds(1),
            BatchLinger = TimeSpan.FromMilliseconds(50),
            ServerTimeout = TimeSpan.FromSeconds(10),
        });

    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what, double seconds = 120)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"Timed out after {seconds} s waiting for: {what}");
            await Task.Delay(100);
        }
    }

    public static string TempFolder(string name) => Path.Combine(Path.GetTempPath(), "portal-e2e", $"{name}-{Guid.NewGuid():N}");
}
