using Microsoft.Extensions.Logging.Abstractions;
using Portal.Web.Features.Activity;
using Portal.Web.Features.Defects;
using Portal.Web.Features.Inbox;
using Portal.Web.Features.Releases;
using Portal.Web.Features.Runs;
using Portal.Web.Infrastructure;
using Portal.Web.Tests.Releases;

namespace Portal.Web.Tests.Defects;

public sealed class DefectReleaseGateTests : IAsyncLifetime
{
    private readonly ReleaseTestBed _bed = new();
    public Task InitializeAsync() => _bed.InitializeAsync();
    public Task DisposeAsync() => _bed.DisposeAsync().AsTask();

    private async Task<GateResult> GateAsync(long releaseId) =>
        (await _bed.Releases.GetAsync(releaseId)).Gates.Single(g => g.Kind == GateKind.Defects);

    [Fact]
    public async Task A_defect_reported_from_a_failed_run_and_marked_blocking_fails_the_gate_until_a_run_verifies_its_fix()
    {
        var clock = TimeProvider.System;
        var live = new LiveUpdates(NullLogger<LiveUpdates>.Instance);
        var defects = new DefectService(_bed.Db, new ActivityLog(clock), new InboxNotifier(live, clock), live, new MarkdownRenderer(), clock);
        var release = await _bed.CreateReleaseAsync();
        var failed = await _bed.AddRunAsync(1, "member-1", double.NaN, double.NaN, status: RunStatus.Failed);
        var verifying = await _bed.AddRunAsync(2, "member-1", 40.0, 60.0);
        Assert.True((await GateAsync(release)).Passed);

        var id = await defects.ReportAsync(_bed.Member1, _bed.ProjectId, DefectServiceTests.Form(runId: failed));
        await defects.SetBlockingAsync(_bed.Lead1, id, 0, true);
        var failing = await GateAsync(release);
        await defects.SetOwnerAsync(_bed.Lead1, id, 1, _bed.Member1.UserId);
        await defects.DiagnoseAsync(_bed.Member1, id, 2, "Loss summed instead of averaged.");
        await defects.MarkFixedAsync(_bed.Member1, id, 3, "abcdef1234");
        Assert.False((await GateAsync(release)).Passed);
        await defects.VerifyAsync(_bed.Member1, id, 4, verifying);

        Assert.Equal($"#{id} Loss is NaN after 200 steps (Backbone)", Assert.Single(failing.Details));
        Assert.False(failing.Passed);
        Assert.True((await GateAsync(release)).Passed);
    }
}
