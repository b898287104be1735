using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Portal.Testing;
using Portal.Web.Tests.Agents;

namespace Portal.Web.Tests.Security;

/// <summary>A data folder that ran in demo mode, started again without it: the real portal process on the same SQLite file.</summary>
public sealed class DemoCredentialsTests
{
    private const string RunShToken = "demo-local-agent-token";

    [Fact]
    public async Task Without_demo_mode_the_portal_refuses_a_demo_database_until_the_demo_accounts_are_deactivated()
    {
        var data = Path.Combine(Path.GetTempPath(), "portal-tests", "demo-off-" + Guid.NewGuid().ToString("N"));
        using (var demo = new PortalAppFactory())
        {
            demo.Settings["Portal:DataDirectory"] = data;
            demo.Settings["Portal:DemoAgentToken"] = RunShToken;
            _ = demo.ServerAddress;
        }

        var refused = await RunPortalAsync("--data", data, "--urls", "http://127.0.0.1:0");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains($"--data \"{data}\" deactivate-demo", refused.Output);
        Assert.Contains("active demo account(s)", refused.Output);

        var command = await RunPortalAsync("--data", data, "deactivate-demo");
        Assert.True(command.ExitCode == 0, command.Output);
        Assert.Contains("Deactivated 26 demo account(s) and revoked 1 demo agent token(s)", command.Output);

        using var after = new PortalAppFactory();
        after.Settings["Portal:DataDirectory"] = data;
        after.Settings["Portal:Demo"] = "false";
        var signIn = await Assert.ThrowsAsync<InvalidOperationException>(() => SignedInClient.CreateAsync(after.ServerAddress, "techlead"));
        Assert.Contains("error=", signIn.Message);
        await Assert.ThrowsAnyAsync<Exception>(() => TestAgent.ConnectAsync(after.ServerAddress, RunShToken, "old-demo-box"));
        Assert.Equal(0, await after.WithDbAsync(db => db.AgentTokens.CountAsync(t => t.RevokedAt == null)));
    }

    [Fact]
    public async Task A_demo_database_seeded_with_one_agent_token_accepts_the_token_configured_on_a_later_demo_run()
    {
        var data = Path.Combine(Path.GetTempPath(), "portal-tests", "demo-token-" + Guid.NewGuid().ToString("N"));
        using (var first = new PortalAppFactory())
        {
            first.Settings["Portal:DataDirectory"] = data;
            first.Settings["Portal:DemoAgentToken"] = "pat_first-run-token";
            _ = first.ServerAddress;
        }

        using var second = new PortalAppFactory();
        second.Settings["Portal:DataDirectory"] = data;
        second.Settings["Portal:DemoAgentToken"] = "pat_token-of-this-data-folder";
        await using var agent = await TestAgent.ConnectAsync(second.ServerAddress, "pat_token-of-this-data-folder", "local-cpu");

        Assert.Equal(1, await second.WithDbAsync(db => db.Agents.CountAsync(a => a.Name == "local-cpu")));
    }

    /// <summary>Runs the built portal (Portal.Web.dll beside the tests) as its own process and collects what it prints.</summary>
    private static async Task<(int ExitCode, string Output)> RunPortalAsync(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = AppContext.BaseDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Portal.Web.dll"));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try { await process.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            return (-1, "the portal kept running: " + await stdout + await stderr);
        }
        return (process.ExitCode, await stdout + await stderr);
    }
}
