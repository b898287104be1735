using System.Net;
using System.Security.Cryptography;
using Microsoft.AspNetCore.SignalR.Client;
using Portal.Contracts;
using Portal.Testing;
using Portal.Web.Features.Runs;
using Portal.Web.Tests.Agents;

namespace Portal.Web.Tests.Runs;

/// <summary>
/// A finished run takes nothing more from its agent, and what one run may store is bounded; each refusal is
/// permanent, gives its reason, stores nothing, and is listed on the run page.
/// </summary>
public sealed class FrozenRunsAndLimitsTests : IClassFixture<PortalAppFactory>
{
    private readonly PortalAppFactory _app;

    public FrozenRunsAndLimitsTests(PortalAppFactory app)
    {
        _app = app;
        AgentTestData.UseFastHeartbeats(app);
        app.Settings["Portal:Runs:MaxMetricNamesPerRun"] = "5";
        app.Settings["Portal:Runs:MaxFinalMetrics"] = "10";
        app.Settings["Portal:Runs:MaxLogBytesPerRun"] = "2000";
        app.Settings["Portal:Runs:MaxArtifactBytesPerRun"] = "30000";
    }

    private async Task<(TestAgent Agent, long RunId)> AgentWithRunAsync(string name)
    {
        var (_, token) = await AgentTestData.CreateTokenAsync(_app);
        var agent = await TestAgent.ConnectAsync(_app.ServerAddress, token, name);
        var runId = await AgentTestData.QueueRunAsync(_app);
        await agent.TakeJobForAsync(runId);
        return (agent, runId);
    }

    private Task<HttpResponseMessage> UploadAsync(TestAgent agent, long runId, string kind, byte[] content, long? step = null)
    {
        var sha = Convert.ToHexStringLower(SHA256.HashData(content));
        return agent.Http.PostAsync(AgentProtocol.ArtifactUploadPath(runId, kind) + $"?fileName={kind}.bin&sha256={sha}" + (step is { } s ? $"&step={s}" : ""),
            new ByteArrayContent(content));
    }

    private Task<int> LogCountAsync(long runId) => _app.WithDbAsync(db => Task.FromResult(db.RunLogLines.Count(l => l.RunId == runId)));

    private Task<List<RunRefusal>> RefusalsAsync(long runId) =>
        _app.WithDbAsync(db => Task.FromResult(db.RunRefusals.Where(r => r.RunId == runId).ToList()));

    [Fact]
    public async Task After_a_run_succeeded_its_agent_can_add_no_points_logs_checkpoints_artifacts_or_second_outcome()
    {
        var (agent, runId) = await AgentWithRunAsync("frozen-box");
        await using var _ = agent;
        Assert.Null((await agent.SendAsync(runId, 1, TestAgent.Points("loss", 0, 9))).Error);
        Assert.Null((await agent.FinishAsync(runId, RunOutcomeStatus.Succeeded, 9, new() { ["AP50"] = 0.5 })).Error);
        var logLines = await LogCountAsync(runId);

        var points = await agent.SendAsync(runId, 2, TestAgent.Points("loss", 999_999, 999_999));
        Assert.Contains("Succeeded; a finished run takes no more points", points.Error);
        Assert.False(points.Retryable);
        Assert.Equal(0, points.Accepted);

        var log = await agent.AppendLogAsync(runId, "late line");
        Assert.Contains("finished run takes no more log lines", log.Error);
        Assert.False(log.Retryable);

        var upload = await UploadAsync(agent, runId, "checkpoint", RandomNumberGenerator.GetBytes(1000), step: 999_999);
        Assert.Equal(HttpStatusCode.Conflict, upload.StatusCode);
        Assert.Contains("finished run takes no more artifacts", await upload.Content.ReadAsStringAsync());
        var saved = await agent.Hub.InvokeAsync<DeliveryAck>(nameof(IAgentHub.CheckpointSaved), new CheckpointInfo(runId, 999_999, new string('a', 64), 1000));
        Assert.Contains("finished run takes no more checkpoints", saved.Error);

        var second = await agent.FinishAsync(runId, RunOutcomeStatus.Failed, 999_999, new() { ["AP50"] = 0.99, ["extra"] = 1 }, "changed my mind");
        Assert.Contains("Succeeded; a finished run takes no more outcomes", second.Error);
        Assert.False(second.Retryable);

        var run = await AgentTestData.RunAsync(_app, runId);
        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.Equal(9, run.LastStep);
        Assert.Null(run.LastCheckpointStep);
        Assert.Null(run.FailureReason);
        Assert.Equal(10, await AgentTestData.PointCountAsync(_app, runId));
        Assert.Equal(logLines, await LogCountAsync(runId));
        var details = await AgentTestData.WithRunsAsync(_app, r => r.GetAsync(runId));
        Assert.Empty(details.Artifacts);
        Assert.Equal(0.5, Assert.Single(details.Run.FinalMetrics).Value);

        // Each refusal is listed once on the run page with its reason.
        Assert.Equal(["checkpoint", "log", "metrics", "outcome"], details.Refusals.Select(r => r.What).Distinct().Order());
        using var member = await SignedInClient.CreateAsync(_app.ServerAddress, "member5");
        var html = WebUtility.HtmlDecode(await member.GetStringAsync($"runs/{runId}"));
        Assert.Contains("Refused by the portal", html);
        Assert.Contains("metrics: Run " + runId + " is Succeeded; a finished run takes no more points.", html);
    }

    [Fact]
    public async Task A_cancelled_run_is_final_its_agent_may_only_confirm_the_cancel()
    {
        var (agent, runId) = await AgentWithRunAsync("cancelled-box");
        await using var _ = agent;
        await AgentTestData.WithRunsAsync(_app, async r => { await r.CancelAsync(await AgentTestData.ActorAsync(_app, "member1"), runId); return 0; });

        var points = await agent.SendAsync(runId, 1, TestAgent.Points("loss", 0, 9));
        Assert.Contains("Cancelled", points.Error);
        var succeeded = await agent.FinishAsync(runId, RunOutcomeStatus.Succeeded, 50, new() { ["AP50"] = 0.9 });
        Assert.Contains("Cancelled; a finished run takes no more outcomes", succeeded.Error);
        Assert.False(succeeded.Retryable);
        Assert.Null((await agent.FinishAsync(runId, RunOutcomeStatus.Cancelled, 50)).Error);

        var run = await AgentTestData.RunAsync(_app, runId);
        Assert.Equal(RunStatus.Cancelled, run.Status);
        Assert.Equal(0, run.LastStep);
        Assert.Equal(0, await AgentTestData.PointCountAsync(_app, runId));
        Assert.Empty((await AgentTestData.WithRunsAsync(_app, r => r.GetAsync(runId))).Run.FinalMetrics);
    }

    [Fact]
    public async Task Points_of_more_metric_names_than_a_run_may_have_are_refused_with_the_reason()
    {
        var (agent, runId) = await AgentWithRunAsync("names-box");
        await using var _ = agent;
        var now = DateTimeOffset.UtcNow;
        var ack = await agent.SendAsync(runId, 1, Enumerable.Range(0, 8).Select(i => new MetricPointDto($"metric{i}", 1, i, now)));
        Assert.Null(ack.Error);
        Assert.Equal(5, ack.Accepted);
        Assert.Equal(3, ack.Rejected.Count);
        Assert.All(ack.Rejected, r => Assert.Contains("already has 5 metric names", r.Reason));

        var next = await agent.SendAsync(runId, 2, [new MetricPointDto("metric0", 2, 0, now), new MetricPointDto("metric9", 2, 0, now)]);
        Assert.Equal(1, next.Accepted);
        Assert.Equal("metric9", Assert.Single(next.Rejected).Name);
        var names = await _app.WithDbAsync(db => Task.FromResult(db.MetricPoints.Where(p => p.RunId == runId).Select(p => p.Name).Distinct().Count()));
        Assert.Equal(5, names);
        Assert.Contains(await RefusalsAsync(runId), r => r.What == "metrics" && r.Reason.Contains("already has 5 metric names") && r.Count == 2);
    }

    [Fact]
    public async Task A_refusal_note_quotes_long_metric_names_cut_short_and_counts_the_rest()
    {
        var (agent, runId) = await AgentWithRunAsync("long-names-box");
        await using var _ = agent;
        var now = DateTimeOffset.UtcNow;
        var huge = Enumerable.Range(0, 3).Select(i => new string((char)('a' + i), 1_000_000)).ToList();
        var ack = await agent.SendAsync(runId, 1, huge.Select(n => new MetricPointDto(n, 1, 1, now))
            .Concat(Enumerable.Range(0, 5).Select(i => new MetricPointDto("", i, 1, now))));

        Assert.Equal(8, ack.Rejected.Count);
        Assert.All(ack.Rejected, r => Assert.True(r.Name.Length < 200, $"a name of {r.Name.Length} characters came back"));
        var note = await _app.WithDbAsync(db => Task.FromResult(db.RunLogLines.Where(l => l.RunId == runId && l.Text.Contains("refused")).Select(l => l.Text).Single()));
        Assert.True(note.Length < 1000, $"the note has {note.Length} characters");
        Assert.Contains("8 metric point(s) of batch 1 refused", note);
        Assert.Contains("and 5 more", note);
        Assert.Contains(new string('a', 64) + "…", note);
        Assert.All(await RefusalsAsync(runId), r => Assert.True(r.Reason.Length <= RunRefusal.MaxReasonLength));
    }

    [Fact]
    public async Task An_outcome_with_too_many_final_metrics_is_refused_whole_and_on_a_cancelled_run_recorded_once()
    {
        var (agent, runId) = await AgentWithRunAsync("finals-box");
        await using var _ = agent;
        var many = Enumerable.Range(0, 40_000).ToDictionary(i => $"final{i}", i => (double)i);

        var refused = await agent.FinishAsync(runId, RunOutcomeStatus.Succeeded, 10, many);
        Assert.Contains("40000 final metrics; at most 10", refused.Error);
        Assert.False(refused.Retryable);
        var run = await AgentTestData.RunAsync(_app, runId);
        Assert.Equal(RunStatus.Running, run.Status);
        Assert.Empty((await AgentTestData.WithRunsAsync(_app, r => r.GetAsync(runId))).Run.FinalMetrics);

        await AgentTestData.WithRunsAsync(_app, async r => { await r.CancelAsync(await AgentTestData.ActorAsync(_app, "member1"), runId); return 0; });
        for (var i = 0; i < 2; i++)
            Assert.Contains("Cancelled", (await agent.FinishAsync(runId, RunOutcomeStatus.Succeeded, 10, many)).Error);
        Assert.Empty((await AgentTestData.WithRunsAsync(_app, r => r.GetAsync(runId))).Run.FinalMetrics);
        var outcomeRefusals = (await RefusalsAsync(runId)).Where(r => r.What == "outcome").ToList();
        Assert.Equal(2, outcomeRefusals.Count); // the cap, and the cancelled run: the second resend only counts up
        Assert.Equal(2, outcomeRefusals.Single(r => r.Reason.Contains("Cancelled")).Count);

        var (other, otherRun) = await AgentWithRunAsync("finals-ok-box");
        await using var __ = other;
        var ten = Enumerable.Range(0, 10).ToDictionary(i => $"final{i}", i => (double)i);
        Assert.Null((await other.FinishAsync(otherRun, RunOutcomeStatus.Succeeded, 10, ten)).Error);
        Assert.Equal(10, (await AgentTestData.WithRunsAsync(_app, r => r.GetAsync(otherRun))).Run.FinalMetrics.Count);
    }

    [Fact]
    public async Task Log_lines_beyond_the_runs_log_volume_are_refused_and_the_log_keeps_what_fit()
    {
        var (agent, runId) = await AgentWithRunAsync("log-cap-box");
        await using var _ = agent;
        var before = await LogCountAsync(runId);
        var line = new string('x', 500);

        for (var i = 0; i < 3; i++) Assert.Null((await agent.AppendLogAsync(runId, line)).Error);
        var refused = await agent.AppendLogAsync(runId, line, line);
        Assert.Contains("reached its limit", refused.Error);
        Assert.False(refused.Retryable);

        Assert.Equal(before + 3, await LogCountAsync(runId));
        Assert.Equal(1500, (await AgentTestData.RunAsync(_app, runId)).LogBytes);
        Assert.Contains(await RefusalsAsync(runId), r => r.What == "log");
    }

    [Fact]
    public async Task Artifacts_beyond_what_a_run_may_keep_are_refused_with_the_reason()
    {
        var (agent, runId) = await AgentWithRunAsync("artifact-cap-box");
        await using var _ = agent;

        Assert.Equal(HttpStatusCode.OK, (await UploadAsync(agent, runId, "checkpoint", RandomNumberGenerator.GetBytes(20_000), step: 1)).StatusCode);
        var refused = await UploadAsync(agent, runId, "checkpoint", RandomNumberGenerator.GetBytes(20_000), step: 2);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
        Assert.Contains("at most 30000 bytes of artifacts", await refused.Content.ReadAsStringAsync());
        Assert.Equal(1, Assert.Single((await AgentTestData.WithRunsAsync(_app, r => r.GetAsync(runId))).Artifacts).Step);
        Assert.Contains(await RefusalsAsync(runId), r => r.What == "checkpoint" && r.Reason.Contains("at most 30000"));
        Assert.Single(Directory.GetFiles(Path.Combine(_app.DataDirectory, "artifacts", runId.ToString())));
    }
}
