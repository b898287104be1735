using System.Net;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Portal.Contracts;
using Portal.Testing;
using Portal.Web.Features.Agents;
using Portal.Web.Features.Runs;

namespace Portal.Web.Tests.Agents;

/// <summary>The agents' numeric self-checks and the runs' environments, through the real hub, database and pages.</summary>
public sealed class NumericCheckAndEnvironmentTests(PortalAppFactory app) : IClassFixture<PortalAppFactory>
{
    public static NumericCheckReport Failed => new(NumericCheckStatus.Failed, "cpu, 2 threads", "conv2d 3x3: weight grad", 0.25, 0.5,
        "Failed on cpu, 2 threads and on cpu, 1 thread: conv2d 3x3: weight grad (64x16x32x32 -> 64x16x32x32): max abs error 0.25. This agent takes no job.", 2.5);

    public static RunEnvironment Environment(int threads = 2, string commit = "0123456789abcdef0123456789abcdef01234567") => new(
        "AMD EPYC 9654 96-Core Processor", "avx avx2 avx512f fma", 2, "2.10.0", "CPU", "AVX512", "default (the highest the CPU supports)",
        "Intel(R) MKL-DNN v3.7.1", threads, 1, "cpu", null, null, null, "Debian GNU/Linux 12", ".NET 10.0.0", "0.107.0", "1.0.0.0", commit,
        "Passed (cpu, 2 threads)");

    [Fact]
    public async Task An_agent_whose_self_check_failed_is_listed_with_the_reason_and_handed_no_job_while_a_passing_agent_is()
    {
        var (_, token) = await AgentTestData.CreateTokenAsync(app);
        await using var failing = await TestAgent.ConnectAsync(app.ServerAddress, token, "failing-box", numericCheck: Failed);
        await using var passing = await TestAgent.ConnectAsync(app.ServerAddress, token, "passing-box", numericCheck:
            new NumericCheckReport(NumericCheckStatus.PassedWithFallback, "cpu, 1 thread (fallback)", "batch_norm train: output", 0.3, 0.2,
                "Passed with fallback: cpu, 1 thread. With 2 threads batch_norm train: output failed.", 3));
        var runId = await AgentTestData.QueueRunAsync(app);

        Assert.Null(await failing.TakeJobAsync());
        Assert.Equal(runId, (await passing.TakeJobForAsync(runId)).RunId);

        var rows = await app.WithDbAsync(db => Task.FromResult(db.Agents.Where(a => a.Name == "failing-box" || a.Name == "passing-box").ToList()));
        Assert.Equal(NumericCheckStatus.Failed, rows.Single(a => a.Name == "failing-box").NumericCheckStatus);
        Assert.Equal(NumericCheckStatus.PassedWithFallback, rows.Single(a => a.Name == "passing-box").NumericCheckStatus);
        using var member = await SignedInClient.CreateAsync(app.ServerAddress, "member7");
        var html = WebUtility.HtmlDecode(await member.GetStringAsync("agents"));
        Assert.Contains("failed: takes no job", html);
        Assert.Contains("conv2d 3x3: weight grad (64x16x32x32 -> 64x16x32x32): max abs error 0.25. This agent takes no job.", html);
        Assert.Contains("passed with fallback", html);
        Assert.Contains("Passed with fallback: cpu, 1 thread.", html);
        await passing.FinishAsync(runId, RunOutcomeStatus.Cancelled, 0);
    }

    [Fact]
    public async Task A_runs_environment_is_stored_shown_on_its_page_and_a_changed_one_on_resume_is_logged_field_by_field()
    {
        var (_, token) = await AgentTestData.CreateTokenAsync(app);
        await using var agent = await TestAgent.ConnectAsync(app.ServerAddress, token, "env-box");
        var runId = await AgentTestData.QueueRunAsync(app);
        await agent.TakeJobForAsync(runId);

        await agent.Hub.InvokeAsync(nameof(IAgentHub.ReportEnvironment), new RunEnvironmentReport(runId, Environment()));
        Assert.Equal(Environment(), RunEnvironments.Parse((await AgentTestData.RunAsync(app, runId)).EnvironmentJson));
        await agent.Hub.InvokeAsync(nameof(IAgentHub.ReportEnvironment), new RunEnvironmentReport(runId, Environment(threads: 1)));

        Assert.Equal(1, RunEnvironments.Parse((await AgentTestData.RunAsync(app, runId)).EnvironmentJson)!.IntraOpThreads);
        var log = await app.WithDbAsync(db => Task.FromResult(db.RunLogLines.Where(l => l.RunId == runId).Select(l => l.Text).ToList()));
        Assert.Contains("[portal] The run goes on in another environment: Intra-op threads 2 -> 1.", log);
        using var member = await SignedInClient.CreateAsync(app.ServerAddress, "member8");
        var html = System.Text.RegularExpressions.Regex.Replace(WebUtility.HtmlDecode(await member.GetStringAsync($"runs/{runId}")), @"\s+", " ");
        Assert.Contains("AMD EPYC 9654 96-Core Processor · cpu · libtorch 2.10.0 (CPU) · 1 threads · oneDNN ISA default (the highest the CPU supports) · agent 0123456789ab", html);
        await agent.FinishAsync(runId, RunOutcomeStatus.Cancelled, 0);
    }

    [Fact]
    public async Task An_incomplete_environment_or_one_for_another_agents_run_is_refused_and_nothing_is_stored()
    {
        var (_, token) = await AgentTestData.CreateTokenAsync(app);
        await using var agent = await TestAgent.ConnectAsync(app.ServerAddress, token, "env-bad-box");
        await using var other = await TestAgent.ConnectAsync(app.ServerAddress, token, "env-other-box");
        var runId = await AgentTestData.QueueRunAsync(app);
        await agent.TakeJobForAsync(runId);

        var missing = await agent.Hub.InvokeAsync<DeliveryAck>(nameof(IAgentHub.ReportEnvironment),
            new RunEnvironmentReport(runId, Environment() with { CpuModel = "", AgentCommit = " " }));
        var foreign = await other.Hub.InvokeAsync<DeliveryAck>(nameof(IAgentHub.ReportEnvironment),
            new RunEnvironmentReport(runId, Environment()));

        Assert.False(missing.Retryable);
        Assert.Contains("The environment lacks CPU, Agent commit.", missing.Error);
        Assert.False(foreign.Retryable);
        Assert.Contains($"Run {runId} is not assigned to this agent.", foreign.Error);
        Assert.Null((await AgentTestData.RunAsync(app, runId)).EnvironmentJson);
        await agent.FinishAsync(runId, RunOutcomeStatus.Cancelled, 0);
    }
}
