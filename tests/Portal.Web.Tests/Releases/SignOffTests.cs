using Microsoft.EntityFrameworkCore;
using Portal.Web.Features.Releases;
using Portal.Web.Infrastructure;

namespace Portal.Web.Tests.Releases;

public sealed class SignOffTests : IAsyncLifetime
{
    private readonly ReleaseTestBed _bed = new();
    public Task InitializeAsync() => _bed.InitializeAsync();
    public Task DisposeAsync() => _bed.DisposeAsync().AsTask();

    private async Task<(int Approvals, int Audit, int RowVersion)> CountsAsync(long id)
    {
        await using var db = await _bed.Db.CreateDbContextAsync();
        return (await db.ReleaseApprovals.CountAsync(a => a.ReleaseId == id), await db.ReleaseAudit.CountAsync(a => a.ReleaseId == id),
            await db.Releases.Where(r => r.Id == id).Select(r => r.RowVersion).SingleAsync());
    }

    [Fact]
    public async Task Two_leads_approving_complete_evidence_pass_the_sign_off_gate()
    {
        var id = await _bed.CreateReleaseAsync();
        await _bed.CompleteEvidenceAsync(id);

        await _bed.SignOff.ApproveAsync(_bed.Lead1, id);
        await _bed.SignOff.ApproveAsync(_bed.Lead2, id);

        var view = await _bed.Releases.GetAsync(id);
        Assert.True(view.AllGatesPass);
        Assert.Equal("2 of 2 lead approvals.", view.Gates.Single(g => g.Kind == GateKind.SignOff).Summary);
        Assert.All(view.Decisions, d => Assert.Equal(view.Fingerprint, d.Fingerprint));
        Assert.Equal(2, view.Audit.Count(a => a.Action == ReleaseActions.Approved && a.Fingerprint == view.Fingerprint));
    }

    [Fact]
    public async Task An_approval_is_cleared_when_the_evidence_changes_afterwards()
    {
        var id = await _bed.CreateReleaseAsync();
        var firstRun = await _bed.CompleteEvidenceAsync(id);
        await _bed.SignOff.ApproveAsync(_bed.Lead1, id);
        var before = await _bed.Releases.GetAsync(id);
        Assert.Equal("1 of 2 lead approvals.", before.Gates.Single(g => g.Kind == GateKind.SignOff).Summary);

        // A chosen run's final metric is corrected after the lead approved.
        await using (var db = await _bed.Db.CreateDbContextAsync())
            await db.RunFinalMetrics.Where(m => m.RunId == firstRun && m.Name == "AP").ExecuteUpdateAsync(s => s.SetProperty(m => m.Value, 39.9));

        var after = await _bed.Releases.GetAsync(id);
        Assert.NotEqual(before.Fingerprint, after.Fingerprint);
        Assert.Equal("0 of 2 lead approvals.", after.Gates.Single(g => g.Kind == GateKind.SignOff).Summary);
        var decision = Assert.Single(after.Decisions);
        Assert.NotNull(decision.ClearedAt);
        var cleared = Assert.Single(after.Audit, a => a.Action == ReleaseActions.Cleared);
        Assert.Contains("The approve of Lea One was given on evidence", cleared.Detail);

        // Reading again does not clear twice, and the lead can approve the new evidence.
        Assert.Single((await _bed.Releases.GetAsync(id)).Audit, a => a.Action == ReleaseActions.Cleared);
        await _bed.SignOff.ApproveAsync(_bed.Lead1, id);
        Assert.Equal("1 of 2 lead approvals.", (await _bed.Releases.GetAsync(id)).Gates.Single(g => g.Kind == GateKind.SignOff).Summary);
    }

    [Fact]
    public async Task Reading_a_release_whose_evidence_changed_stores_nothing_and_the_next_change_stores_the_clearing()
    {
        var id = await _bed.CreateReleaseAsync();
        var firstRun = await _bed.CompleteEvidenceAsync(id);
        await _bed.SignOff.ApproveAsync(_bed.Lead1, id);
        await using (var db = await _bed.Db.CreateDbContextAsync())
            await db.RunFinalMetrics.Where(m => m.RunId == firstRun && m.Name == "AP").ExecuteUpdateAsync(s => s.SetProperty(m => m.Value, 39.9));
        var before = await CountsAsync(id);

        var commands = await _bed.Sql.CountAsync(() => _bed.Releases.GetAsync(id));

        Assert.All(commands, c => Assert.StartsWith("SELECT", c.TrimStart()));
        Assert.Equal(before, await CountsAsync(id));
        await using (var db = await _bed.Db.CreateDbContextAsync())
            Assert.Null(await db.ReleaseApprovals.Where(a => a.ReleaseId == id).Select(a => a.ClearedAt).SingleAsync());

        await _bed.Releases.CommentAsync(_bed.Mentor, id, "The AP of the first seed was corrected.");

        await using (var db = await _bed.Db.CreateDbContextAsync())
        {
            Assert.NotNull(await db.ReleaseApprovals.Where(a => a.ReleaseId == id).Select(a => a.ClearedAt).SingleAsync());
            Assert.Equal(1, await db.ReleaseAudit.CountAsync(a => a.ReleaseId == id && a.Action == ReleaseActions.Cleared));
        }
        Assert.Single((await _bed.Releases.GetAsync(id)).Audit, a => a.Action == ReleaseActions.Cleared);
    }

    [Fact]
    public async Task Reopening_a_task_of_a_required_stage_clears_approvals_and_fails_the_stages_gate()
    {
        var id = await _bed.CreateReleaseAsync();
        await _bed.CompleteEvidenceAsync(id);
        var task = await _bed.AddTaskAsync(Portal.Web.Features.Projects.ReproductionStage.Evaluation, Portal.Web.Features.Tasks.ModelComponent.Backbone, Portal.Web.Features.Tasks.ProjectTaskStatus.Done);
        await _bed.SignOff.ApproveAsync(_bed.Lead1, id);
        await _bed.SignOff.ApproveAsync(_bed.Lead2, id);

        await _bed.SetTaskStatusAsync(task, Portal.Web.Features.Tasks.ProjectTaskStatus.Open);

        var view = await _bed.Releases.GetAsync(id);
        Assert.False(view.Gates.Single(g => g.Kind == GateKind.Stages).Passed);
        Assert.Equal("0 of 2 lead approvals.", view.Gates.Single(g => g.Kind == GateKind.SignOff).Summary);
        Assert.All(view.Decisions, d => Assert.NotNull(d.ClearedAt));
        Assert.Equal(2, view.Audit.Count(a => a.Action == ReleaseActions.Cleared));
    }

    [Fact]
    public async Task Editing_the_model_card_clears_earlier_approvals()
    {
        var id = await _bed.CreateReleaseAsync();
        await _bed.CompleteEvidenceAsync(id);
        await _bed.SignOff.ApproveAsync(_bed.Lead1, id);

        await _bed.Releases.SaveModelCardAsync(_bed.Lead2, id, ReleaseTestBed.FilledCard.Replace("Small objects.", "Small and crowded objects."));

        var view = await _bed.Releases.GetAsync(id);
        Assert.Equal("0 of 2 lead approvals.", view.Gates.Single(g => g.Kind == GateKind.SignOff).Summary);
        Assert.NotNull(Assert.Single(view.Decisions).ClearedAt);
    }

    [Fact]
    public async Task A_members_approval_is_refused_and_nothing_is_stored()
    {
        var id = await _bed.CreateReleaseAsync();
        await _bed.CompleteEvidenceAsync(id);
        var before = await CountsAsync(id);

        var error = await Assert.ThrowsAsync<PortalError>(() => _bed.SignOff.ApproveAsync(_bed.Member1, id));
        var mentorError = await Assert.ThrowsAsync<PortalError>(() => _bed.SignOff.RejectAsync(_bed.Mentor, id, "not yet"));

        Assert.Equal(PortalErrorKind.Forbidden, error.Kind);
        Assert.Equal("Only a lead can approve a release.", error.Message);
        Assert.Equal(PortalErrorKind.Forbidden, mentorError.Kind);
        Assert.Equal(before, await CountsAsync(id));
    }

    [Fact]
    public async Task Approving_a_release_that_fails_a_gate_is_refused_with_the_failing_gates()
    {
        var id = await _bed.CreateReleaseAsync();
        await _bed.CompleteEvidenceAsync(id);
        await _bed.Releases.SaveModelCardAsync(_bed.Lead1, id, ReleaseTestBed.FilledCard.Replace("Apache-2.0.", "TODO"));
        var before = await CountsAsync(id);

        var error = await Assert.ThrowsAsync<PortalError>(() => _bed.SignOff.ApproveAsync(_bed.Lead1, id));

        Assert.Equal(PortalErrorKind.Validation, error.Kind);
        Assert.Equal("The release cannot be approved while gates fail: Model card: 1 section to fill: Licence.", error.Message);
        Assert.Equal(before, await CountsAsync(id));
    }

    [Fact]
    public async Task Approving_twice_is_refused_and_stores_nothing_more()
    {
        var id = await _bed.CreateReleaseAsync();
        await _bed.CompleteEvidenceAsync(id);
        await _bed.SignOff.ApproveAsync(_bed.Lead1, id);
        var before = await CountsAsync(id);

        var error = await Assert.ThrowsAsync<PortalError>(() => _bed.SignOff.ApproveAsync(_bed.Lead1, id));

        Assert.Equal(PortalErrorKind.Conflict, error.Kind);
        Assert.Equal("You have already approved this release on this evidence.", error.Message);
        Assert.Equal(before, await CountsAsync(id));
    }

    [Fact]
    public async Task A_rejection_needs_a_reason_and_blocks_the_sign_off_until_the_lead_approves()
    {
        var id = await _bed.CreateReleaseAsync();
        await _bed.CompleteEvidenceAsync(id);

        var noReason = await Assert.ThrowsAsync<PortalError>(() => _bed.SignOff.RejectAsync(_bed.Lead2, id, "  "));
        Assert.Equal("Say why the release is rejected.", noReason.Message);

        await _bed.SignOff.ApproveAsync(_bed.Lead1, id);
        await _bed.SignOff.RejectAsync(_bed.Lead2, id, "The std over seeds looks too small to be real.");
        var rejected = (await _bed.Releases.GetAsync(id)).Gates.Single(g => g.Kind == GateKind.SignOff);
        Assert.False(rejected.Passed);
        Assert.Equal("Rejected by Leo Two.", rejected.Summary);
        Assert.Contains("Rejected by Leo Two: The std over seeds looks too small to be real.", rejected.Details);

        await _bed.SignOff.ApproveAsync(_bed.Lead2, id);
        Assert.True((await _bed.Releases.GetAsync(id)).Gates.Single(g => g.Kind == GateKind.SignOff).Passed);
    }

    [Fact]
    public async Task Mentors_comment_and_members_cannot()
    {
        var id = await _bed.CreateReleaseAsync();

        await _bed.Releases.CommentAsync(_bed.Mentor, id, "Please add the test-dev server result.");
        var error = await Assert.ThrowsAsync<PortalError>(() => _bed.Releases.CommentAsync(_bed.Member1, id, "+1"));

        Assert.Equal(PortalErrorKind.Forbidden, error.Kind);
        var comment = Assert.Single((await _bed.Releases.GetAsync(id)).Audit, a => a.Action == ReleaseActions.Commented);
        Assert.Equal(("Mina Mentor", "Please add the test-dev server result."), (comment.UserName, comment.Detail));
    }

    [Fact]
    public async Task A_tolerance_below_zero_is_refused_for_the_release_and_the_project()
    {
        var id = await _bed.CreateReleaseAsync();
        var before = await CountsAsync(id);

        var releaseError = await Assert.ThrowsAsync<PortalError>(() => _bed.Releases.UpdateAsync(_bed.Lead1, id, ReleaseTestBed.Input(tolerance: -0.1)));
        var createError = await Assert.ThrowsAsync<PortalError>(() => _bed.Releases.CreateAsync(_bed.Lead1, _bed.ProjectId, ReleaseTestBed.Input("2.0", tolerance: -1)));
        var projectError = await Assert.ThrowsAsync<PortalError>(() => _bed.ProjectEditing.SetToleranceAsync(_bed.Lead1, _bed.ProjectId, -0.5));

        Assert.All([releaseError, createError, projectError], e => Assert.Equal("The tolerance cannot be below zero.", e.Message));
        Assert.Equal(before, await CountsAsync(id));
        await using var db = await _bed.Db.CreateDbContextAsync();
        Assert.Equal(1, await db.Releases.CountAsync());
        Assert.Null(await db.Releases.Select(r => r.Tolerance).SingleAsync());
        Assert.Equal(0.5, await db.Projects.Select(p => p.Tolerance).SingleAsync());
    }
}
