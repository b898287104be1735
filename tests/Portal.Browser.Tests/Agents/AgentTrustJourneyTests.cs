using System.Text.RegularExpressions;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Portal.Contracts;
using Portal.Testing;
using Portal.Web.Features.Account;
using Portal.Web.Features.Agents;
using Portal.Web.Features.Runs;
using Portal.Web.Infrastructure;

namespace Portal.Browser.Tests.Agents;

public sealed class AgentTrustJourneyTests : IClassFixture<PortalAppFactory>, IClassFixture<BrowserFixture>
{
    private readonly PortalAppFactory _app;
    private readonly BrowserFixture _browser;

    public AgentTrustJourneyTests(PortalAppFactory app, BrowserFixture browser) => (_app, _browser) = (app, browser);

    [Fact]
    public async Task The_agents_page_shows_each_agents_numeric_check_and_the_run_page_the_environment_its_run_trained_in()
    {
        var secret = "test-" + Guid.NewGuid().ToString("N");
        await using (var db = await _app.DbFactory.CreateDbContextAsync())
            await AgentTokenService.AddAsync(db, "browser agents", secret, "test", DateTimeOffset.UtcNow);
        await using var failing = await RegisterAsync(secret, "refusing-box", new NumericCheckReport(NumericCheckStatus.Failed, "cpu, 2 threads",
            "batch_norm train: input grad", double.PositiveInfinity, double.PositiveInfinity,
            "Failed on cpu, 2 threads and on cpu, 1 thread: batch_norm train: input grad (64x16x32x32): max abs error Infinity. This agent takes no job.", 2));
        await using var passing = await RegisterAsync(secret, "trusted-box", new NumericCheckReport(NumericCheckStatus.PassedWithFallback,
            "cpu, 1 thread (fallback)", "conv2d 3x3: output", 0.01, 0.5, "Passed with fallback: cpu, 1 thread. With 2 threads conv2d 3x3: output failed.", 3));
        long runId;
        using (var scope = _app.Services.CreateScope())
        {
            await using var db = await _app.DbFactory.CreateDbContextAsync();
            var member = db.Users.Single(u => u.UserName == "member2");
            var project = db.Projects.Single(p => p.Name == DemoShapesProject.ProjectName);
            runId = await scope.ServiceProvider.GetRequiredService<RunService>().StartAsync(new Actor(member.Id, member.DisplayName, new HashSet<string> { Roles.Member }),
                project.Id, new StartRunRequest("detector", """{"steps": 20}""", 5, null, null));
        }
        Assert.Null(await failing.InvokeAsync<JobAssignment?>(nameof(IAgentHub.TakeJob)));
        JobAssignment? job;
        while ((job = await passing.InvokeAsync<JobAssignment?>(nameof(IAgentHub.TakeJob))) is not null && job.RunId != runId)
            await passing.InvokeAsync(nameof(IAgentHub.RunFinished), new RunOutcome(job.RunId, RunOutcomeStatus.Cancelled, new Dictionary<string, double>(), null, 0));
        Assert.Equal(runId, job?.RunId);
        await passing.InvokeAsync(nameof(IAgentHub.ReportEnvironment), new RunEnvironmentReport(runId, new RunEnvironment(
            "AMD EPYC 9654 96-Core Processor", "avx avx2 avx512f fma", 2, "2.10.0", "CPU", "AVX512", "AVX2 (ONEDNN_MAX_CPU_ISA)",
            "Intel(R) MKL-DNN v3.7.1", 1, 1, "cpu", null, null, null, "Debian GNU/Linux 12", ".NET 10.0.0", "0.107.0", "1.0.0.0",
            "0123456789abcdef0123456789abcdef01234567", "PassedWithFallback (cpu, 1 thread (fallback))")));

        var page = await _browser.SignInAsync(_app.ServerAddress, "member2");
        await page.GotoAsync("agents");
        var refusing = page.Locator("[data-testid=agent-row]", new() { HasText = "refusing-box" });
        await Assertions.Expect(refusing.Locator("[data-testid=agent-numeric-check]")).ToContainTextAsync("failed: takes no job");
        await Assertions.Expect(refusing).ToContainTextAsync("batch_norm train: input grad (64x16x32x32)");
        var trusted = page.Locator("[data-testid=agent-row]", new() { HasText = "trusted-box" });
        await Assertions.Expect(trusted.Locator("[data-testid=agent-numeric-check]")).ToContainTextAsync("passed with fallback");
        await Assertions.Expect(trusted).ToContainTextAsync($"run #{runId}");

        await page.GotoAsync($"runs/{runId}");
        await BrowserFixture.WaitForCircuitAsync(page);
        await Assertions.Expect(page.Locator("[data-testid=run-environment-summary]")).ToContainTextAsync(
            new Regex(@"AMD EPYC 9654 96-Core Processor · cpu · libtorch 2\.10\.0 \(CPU\) · 1 threads · oneDNN ISA AVX2 \(ONEDNN_MAX_CPU_ISA\)"));
        await page.ClickAsync("[data-testid=run-environment] .mud-expand-panel-header");
        var commit = page.Locator("[data-testid=run-environment-fields] tr", new() { HasText = "Agent commit" });
        await Assertions.Expect(commit).ToContainTextAsync("0123456789abcdef0123456789abcdef01234567");
        await Assertions.Expect(page.Locator("[data-testid=run-environment-fields] tr", new() { HasText = "Numeric self-check" }))
            .ToContainTextAsync("PassedWithFallback");
    }

    private async Task<HubConnection> RegisterAsync(string token, string name, NumericCheckReport check)
    {
        var hub = new HubConnectionBuilder()
            .WithUrl(new Uri(_app.ServerAddress, AgentProtocol.HubPath.TrimStart('/')), o => o.AccessTokenProvider = () => Task.FromResult<string?>(token))
            .AddMessagePackProtocol()
            .Build();
        await hub.StartAsync();
        await hub.InvokeAsync<AgentWelcome>(nameof(IAgentHub.Register), new AgentHello(name,
            new AgentHardware(2, 8L << 30, null, null, false, "2.10.0", "Linux test"), 1, [], "test", NumericCheck: check));
        return hub;
    }
}
