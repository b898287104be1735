using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Cli;
using Portal.Web.Features.Agents;
using Portal.Web.Features.Api;
using Portal.Web.Features.Releases;
using Portal.Web.Features.Runs;

namespace Portal.EndToEnd.Tests.EndToEnd;

/// <summary>The portal with real agents training real detector runs: runs that restart themselves, and the command line.</summary>
public sealed partial class AutomationTests
{
    private const string Tiny = """{"steps": 40, "batchSize": 4, "trainImages": 32, "valImages": 8, "imageSize": 32, "width": 4, "evalEvery": 20, "checkpointEvery": 10, "logEvery": 10}""";

    [Fact]
    public async Task A_run_whose_agent_is_killed_finishes_on_another_agent_with_no_click()
    {
        var port = EndToEndPortal.FreePort();
        using var portal = new EndToEndPortal(port);
        _ = portal.ServerAddress;
        var token = await portal.CreateTokenAsync();
        const string Config = """{"steps": 120, "batchSize": 4, "trainImages": 32, "valImages": 8, "imageSize": 32, "width": 4, "evalEvery": 60, "checkpointEvery": 20, "logEvery": 20}""";
        var runId = await portal.QueueDetectorRunAsync(Config);

        var doomed = await EndToEndPortal.StartAgentAsync(port, token, "doomed-agent", EndToEndPortal.TempFolder("agent"));
        await EndToEndPortal.EventuallyAsync(async () => (await portal.GetRunAsync(runId)).LastCheckpointStep >= 20, "a checkpoint reached the portal");
        await using var standby = await EndToEndPortal.StartAgentAsync(port, token, "standby-agent", EndToEndPortal.TempFolder("agent"));
        await doomed.KillAsync();

        await EndToEndPortal.EventuallyAsync(async () => (await portal.GetRunAsync(runId)).Status == RunStatus.Succeeded, "the run succeeds on the standby agent", 300);
        var run = await portal.GetRunAsync(runId);
        Assert.Equal(1, run.AutoRestarts);
        var details = await portal.Services.CreateScopeAndGet(runId);
        Assert.Equal("standby-agent", details.AgentName);
        var restart = Assert.Single(details.Restarts!);
        Assert.True(restart.Automatic);
        Assert.Contains("No heartbeat", restart.Reason);
        Assert.Equal(Enumerable.Range(1, 120).Select(i => (long)i), (await portal.StepsAsync(runId, "train/loss")).Order());
        Assert.Contains(details.LogTail, l => l.Text.Contains($"restarted automatically from the checkpoint at step {restart.FromStep}"));
        var feed = await portal.WithDbAsync(db => db.Activity.Where(a => a.Text.Contains($"run #{runId} restarted automatically")).CountAsync());
        Assert.Equal(1, feed);
    }

    [Fact]
    public async Task The_command_line_queues_three_seeds_waits_for_them_reads_metrics_as_csv_and_fails_when_a_run_fails()
    {
        var port = EndToEndPortal.FreePort();
        using var portal = new EndToEndPortal(port);
        var url = portal.ServerAddress.ToString();
        var agentToken = await portal.CreateTokenAsync();
        await using var agent = await EndToEndPortal.StartAgentAsync(port, agentToken, "cli-agent", EndToEndPortal.TempFolder("agent"));
        string secret;
        using (var scope = portal.Services.CreateScope())
            secret = (await scope.ServiceProvider.GetRequiredService<PersonalTokenService>()
                .CreateAsync(await portal.ActorAsync("member1"), "cli", ApiScopes.Read | ApiScopes.Runs, 1)).Secret;
        var home = EndToEndPortal.TempFolder("cli");
        Directory.CreateDirectory(home);
        var configPath = Path.Combine(home, "config.json");
        var configFile = Path.Combine(home, "tiny.json");
        await File.WriteAllTextAsync(configFile, Tiny);

        async Task<(int Code, string Output, string Error)> Portal(params string[] args)
        {
            var output = new StringWriter();
            var error = new StringWriter();
            var code = await PortalCli.RunAsync(args, output, error, configPath);
            return (code, output.ToString(), error.ToString());
        }

        var login = await Portal("login", "--url", url, "--token", secret);
        Assert.True(login.Code == 0, login.Error);
        Assert.Contains("Signed in to", login.Output);
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(configPath));

        var queue = await Portal("runs", "queue", "--project", DemoShapesProject.ProjectName, "--recipe", "detector", "--config", configFile,
            "--seeds", "1,2,3", "--commit", "abc1234", "--wait", "--poll", "0.5");
        Assert.True(queue.Code == 0, queue.Output + queue.Error);
        Assert.Contains("All 3 run(s) succeeded.", queue.Output);
        var ids = QueuedRun().Matches(queue.Output).Select(m => long.Parse(m.Groups[1].Value)).ToList();
        Assert.Equal(3, ids.Count);
        var runs = await portal.WithDbAsync(db => db.Runs.Where(r => ids.Contains(r.Id)).OrderBy(r => r.Id).ToListAsync());
        Assert.Equal([1, 2, 3], runs.Select(r => r.Seed));
        Assert.All(runs, r => Assert.Equal(("abc1234", RunStatus.Succeeded), (r.Commit, r.Status)));

        var metrics = await Portal("runs", "metrics", ids[0].ToString(), "--csv");
        Assert.True(metrics.Code == 0, metrics.Error);
        var lines = metrics.Output.TrimEnd('\n').Split('\n');
        Assert.Equal("metric,step,value,time", lines[0]);
        var lossSteps = lines.Skip(1).Select(l => l.Split(',')).Where(f => f[0] == "train/loss").Select(f => long.Parse(f[1])).ToList();
        Assert.Equal(Enumerable.Range(1, 40).Select(i => (long)i), lossSteps);
        Assert.All(lines.Skip(1).Where(l => l.StartsWith("train/loss,")), l => Assert.True(double.TryParse(l.Split(',')[2], System.Globalization.CultureInfo.InvariantCulture, out _)));

        // A run that does not succeed (cancelled here while it trains) makes --wait exit non-zero.
        var longConfig = Path.Combine(home, "long.json");
        await File.WriteAllTextAsync(longConfig, """{"steps": 100000, "batchSize": 4, "trainImages": 32, "valImages": 8, "imageSize": 32, "width": 4}""");
        var waiting = Portal("runs", "queue", "--project", DemoShapesProject.ProjectName, "--recipe", "detector", "--config", longConfig, "--wait", "--poll", "0.5");
        long longRun = 0;
        await EndToEndPortal.EventuallyAsync(async () =>
        {
            longRun = await portal.WithDbAsync(db => db.Runs.Where(r => r.Status == RunStatus.Running).Select(r => r.Id).FirstOrDefaultAsync());
            return longRun != 0;
        }, "the long run trains");
        await portal.RunAsync((service, actor) => service.CancelAsync(actor, longRun));
        var failed = await waiting;
        Assert.Equal(PortalCli.RunFailed, failed.Code);
        Assert.Contains($"1 of 1 run(s) did not succeed: #{longRun} Cancelled.", failed.Output);

        var unknown = await Portal("runs", "queue", "--project", "No such project", "--recipe", "detector", "--config", configFile);
        Assert.Equal(PortalCli.Usage, unknown.Code);
        Assert.Contains("There is no project named 'No such project'", unknown.Error);
        var refused = await Portal("runs", "queue", "--project", DemoShapesProject.ProjectName, "--recipe", "no-such-recipe", "--config", configFile);
        Assert.Equal(PortalCli.ApiError, refused.Code);
        Assert.Contains("Unknown recipe 'no-such-recipe'", refused.Error);
    }

    [Fact]
    public async Task Release_gates_from_the_command_line_exit_1_while_a_gate_fails_and_0_once_every_gate_passes()
    {
        using var portal = new EndToEndPortal(EndToEndPortal.FreePort());
        var url = portal.ServerAddress.ToString();
        string secret;
        using (var scope = portal.Services.CreateScope())
            secret = (await scope.ServiceProvider.GetRequiredService<PersonalTokenService>()
                .CreateAsync(await portal.ActorAsync("member1"), "ci gates", ApiScopes.Read, 1)).Secret;
        var home = EndToEndPortal.TempFolder("cli");
        Directory.CreateDirectory(home);
        var configPath = Path.Combine(home, "config.json");
        async Task<(int Code, string Output, string Error)> Portal(params string[] args)
        {
            var output = new StringWriter();
            var error = new StringWriter();
            var code = await PortalCli.RunAsync(args, output, error, configPath);
            return (code, output.ToString(), error.ToString());
        }
        Assert.Equal(PortalCli.Ok, (await Portal("login", "--url", url, "--token", secret)).Code);
        var releases = await portal.WithDbAsync(db => db.Releases.ToDictionaryAsync(r => r.Name, r => r.Id));

        var failing = await Portal("releases", "gates", releases["YOLOv4-tiny"].ToString());
        Assert.True(failing.Code == PortalCli.GateFailed, failing.Output + failing.Error);
        Assert.Contains("  FAIL  ", failing.Output);
        Assert.Matches(@"\d+ of 9 gates fail: ", failing.Output);

        // The demo's YOLOv3 release lacks only a lead's approval; once it has one, every gate passes.
        var unsigned = await Portal("releases", "gates", releases["YOLOv3"].ToString());
        Assert.Equal(PortalCli.GateFailed, unsigned.Code);
        Assert.Contains("1 of 9 gates fail: ", unsigned.Output);
        using (var scope = portal.Services.CreateScope())
            await scope.ServiceProvider.GetRequiredService<ReleaseSignOff>().ApproveAsync(await portal.ActorAsync("techlead"), releases["YOLOv3"]);
        var passing = await Portal("releases", "gates", releases["YOLOv3"].ToString());
        Assert.True(passing.Code == PortalCli.Ok, passing.Output + passing.Error);
        Assert.DoesNotContain("FAIL", passing.Output);
        Assert.Contains("All 9 gates pass.", passing.Output);

        var help = await Portal("help");
        Assert.Contains("portal releases gates REL                   exits 0 when every gate passes, 1 when one fails", help.Output);
        var unknown = await Portal("releases", "gates", "999999");
        Assert.Equal(PortalCli.ApiError, unknown.Code);
    }

    [GeneratedRegex(@"Queued run #(\d+)")]
    private static partial Regex QueuedRun();
}
