using Microsoft.EntityFrameworkCore;
using Portal.Web.Features.Defects;
using Portal.Web.Features.Inbox;
using Portal.Web.Features.Projects;
using Portal.Web.Features.Runs;
using Portal.Web.Features.Tasks;
using Portal.Web.Infrastructure;
using Portal.Web.Tests.Tasks;

namespace Portal.Web.Tests.Defects;

public sealed class DefectServiceTests : IAsyncLifetime
{
    private BoardDatabase _db = default!;
    private DefectService _defects = default!;

    public async Task InitializeAsync()
    {
        _db = await BoardDatabase.CreateAsync();
        _defects = new DefectService(_db, _db.Activity, _db.Inbox, _db.Live, _db.Markdown, _db.Clock);
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private Actor Member => _db.Members[0];

    internal static DefectForm Form(string title = "Loss is NaN after 200 steps", long? runId = null) => new()
    {
        Title = title, Description = "The loss diverges.", Component = ModelComponent.Backbone, Reporter = ReporterKind.Replicator,
        Manifestation = DefectManifestation.Basic, Stage = DefectStage.Training, Impact = DefectImpact.NumericalInstability,
        Type = DefectType.AssignmentInitialization, RootCause = RootCause.LayerProperties, RunId = runId,
    };

    private async Task<long> AddRunAsync(RunStatus status, long? projectId = null, string? hardware = null)
    {
        await using var db = _db.CreateDbContext();
        var run = new Run
        {
            ProjectId = projectId ?? _db.ProjectId, Recipe = "detector", Status = status, StartedById = Member.UserId,
            QueuedAt = _db.Clock.GetUtcNow(), HardwareJson = hardware,
        };
        db.Runs.Add(run);
        await db.SaveChangesAsync();
        return run.Id;
    }

    private async Task<long> AddProjectAsync()
    {
        await using var db = _db.CreateDbContext();
        var p = new Project { Name = "Other", CreatedAt = _db.Clock.GetUtcNow() };
        db.Projects.Add(p);
        await db.SaveChangesAsync();
        return p.Id;
    }

    private Task<Defect> GetAsync(long id) => _db.QueryAsync(db => db.Defects.AsNoTracking().SingleAsync(d => d.Id == id));

    [Fact]
    public async Task A_member_reports_a_defect_from_a_run_which_carries_the_runs_environment_and_tells_the_component_lead()
    {
        var run = await AddRunAsync(RunStatus.Failed, hardware: """{"device":"cuda","gpu":"H100"}""");

        var id = await _defects.ReportAsync(Member, _db.ProjectId, Form(runId: run));

        var d = await GetAsync(id);
        Assert.Equal((DefectStatus.Open, run, Member.UserId), (d.Status, d.RunId, d.ReportedById));
        Assert.Equal("""{"device":"cuda","gpu":"H100"}""", d.EnvironmentJson);
        var note = await _db.QueryAsync(db => db.Notifications.SingleAsync());
        Assert.Equal((_db.Lead.UserId, NotificationKind.Defect), (note.UserId, note.Kind));
        Assert.Contains(await _db.QueryAsync(db => db.Activity.Select(a => a.Text).ToListAsync()), t => t.Contains("reported defect"));
    }

    [Fact]
    public async Task A_defect_goes_from_open_to_verified_with_the_evidence_each_status_requires()
    {
        var failing = await AddRunAsync(RunStatus.Failed);
        var fixedRun = await AddRunAsync(RunStatus.Succeeded);
        var id = await _defects.ReportAsync(Member, _db.ProjectId, Form(runId: failing));

        var noOwner = await Assert.ThrowsAsync<PortalError>(() => _defects.DiagnoseAsync(_db.Lead, id, 0, "BN momentum differs"));
        Assert.Contains("owner", noOwner.Message);
        var form = Form(runId: failing);
        form.OwnerId = Member.UserId;
        await _defects.UpdateAsync(_db.Lead, id, 0, form);
        await _defects.DiagnoseAsync(Member, id, 1, "BN momentum is 0.1 in PyTorch, 0.99 in Keras.");
        var noCommit = await Assert.ThrowsAsync<PortalError>(() => _defects.MarkFixedAsync(Member, id, 2, " "));
        Assert.Equal("Name the commit that fixes the defect.", noCommit.Message);
        await _defects.MarkFixedAsync(Member, id, 2, "a1b2c3d4e5");
        var sameRun = await Assert.ThrowsAsync<PortalError>(() => _defects.VerifyAsync(Member, id, 3, failing));
        Assert.Contains("succeeded", sameRun.Message);
        await _defects.VerifyAsync(Member, id, 3, fixedRun);

        var d = await GetAsync(id);
        Assert.Equal((DefectStatus.Verified, fixedRun, "a1b2c3d4e5"), (d.Status, d.VerifyingRunId, d.FixCommit));
        Assert.NotNull(d.ClosedAt);
        Assert.Equal(5, await _db.QueryAsync(db => db.Activity.CountAsync()));
    }

    [Fact]
    public async Task A_verifying_run_from_another_project_is_refused_and_the_defect_stays_fixed()
    {
        var other = await AddProjectAsync();
        var foreignRun = await AddRunAsync(RunStatus.Succeeded, other);
        var id = await _defects.ReportAsync(_db.Lead, _db.ProjectId, Form());
        await _defects.SetOwnerAndFixAsync(_db.Lead, id, Member.UserId);

        var error = await Assert.ThrowsAsync<PortalError>(() => _defects.VerifyAsync(_db.Lead, id, 3, foreignRun));

        Assert.Equal($"Run {foreignRun} belongs to another project; verify with a run of this project.", error.Message);
        var d = await GetAsync(id);
        Assert.Equal((DefectStatus.Fixed, (long?)null, 3), (d.Status, d.VerifyingRunId, d.Version));
    }

    [Fact]
    public async Task A_status_cannot_be_skipped()
    {
        var id = await _defects.ReportAsync(_db.Lead, _db.ProjectId, Form());

        var error = await Assert.ThrowsAsync<PortalError>(() => _defects.MarkFixedAsync(_db.Lead, id, 0, "abc123"));

        Assert.Equal(PortalErrorKind.Conflict, error.Kind);
        Assert.Equal(DefectStatus.Open, (await GetAsync(id)).Status);
    }

    [Fact]
    public async Task Only_a_lead_marks_a_defect_blocking_or_decides_it_wont_be_fixed_and_a_reason_is_required()
    {
        var id = await _defects.ReportAsync(Member, _db.ProjectId, Form());

        await Assert.ThrowsAsync<PortalError>(() => _defects.SetBlockingAsync(Member, id, 0, true));
        await Assert.ThrowsAsync<PortalError>(() => _defects.WontFixAsync(Member, id, 0, "Upstream bug"));
        var noReason = await Assert.ThrowsAsync<PortalError>(() => _defects.WontFixAsync(_db.Lead, id, 0, ""));
        Assert.Equal("Say why the defect won't be fixed.", noReason.Message);
        await _defects.SetBlockingAsync(_db.Lead, id, 0, true);
        await _defects.WontFixAsync(_db.Lead, id, 1, "Only on the old driver.");

        var d = await GetAsync(id);
        Assert.Equal((DefectStatus.WontFix, true, "Only on the old driver."), (d.Status, d.IsBlocking, d.WontFixReason));
    }

    [Fact]
    public async Task A_mentor_cannot_report_and_a_member_cannot_make_someone_else_the_owner()
    {
        var mentor = await Assert.ThrowsAsync<PortalError>(() => _defects.ReportAsync(_db.Mentor, _db.ProjectId, Form()));
        Assert.Equal(PortalErrorKind.Forbidden, mentor.Kind);
        var form = Form();
        form.OwnerId = _db.Members[1].UserId;
        var owner = await Assert.ThrowsAsync<PortalError>(() => _defects.ReportAsync(Member, _db.ProjectId, form));
        Assert.Equal(PortalErrorKind.Forbidden, owner.Kind);
        Assert.Equal(0, await _db.QueryAsync(db => db.Defects.CountAsync()));
    }

    [Fact]
    public async Task Unknown_dimension_values_other_without_text_and_evidence_of_another_project_are_refused()
    {
        var unknown = Form();
        unknown.Impact = (DefectImpact)99;
        Assert.Equal("99 is not a known impact.", (await Assert.ThrowsAsync<PortalError>(() => _defects.ReportAsync(Member, _db.ProjectId, unknown))).Message);
        var other = Form();
        other.RootCause = RootCause.Other;
        Assert.Contains("Other", (await Assert.ThrowsAsync<PortalError>(() => _defects.ReportAsync(Member, _db.ProjectId, other))).Message);
        var foreignRun = await AddRunAsync(RunStatus.Failed, await AddProjectAsync());
        var foreign = await Assert.ThrowsAsync<PortalError>(() => _defects.ReportAsync(Member, _db.ProjectId, Form(runId: foreignRun)));
        Assert.Equal($"Run {foreignRun} is not a run of this project.", foreign.Message);
        Assert.Equal(0, await _db.QueryAsync(db => db.Defects.CountAsync()));
    }

    [Fact]
    public async Task An_import_with_bad_rows_reports_each_and_stores_nothing_and_a_good_one_stores_all()
    {
        const string Bad = "Title,Component,Reporter,Manifestation,Part of Implementation,Impacts,Defect types,Root Causes\r\n"
                           + "Good row,Backbone,Re-user,Basic defects,Training,Crash,Logic,API defects\r\n"
                           + "Bad impact,Head,Re-user,Basic defects,Training,Explodes,Logic,API defects\r\n"
                           + ",Neck,Adaptor,Basic defects,Modeling,Crash,Logic,Loss\r\n";

        var error = await Assert.ThrowsAsync<PortalError>(() => _defects.ImportAsync(_db.Lead, _db.ProjectId, Bad));

        Assert.Contains("Line 3: “Explodes” is not a known value of “Impacts”.", error.Message);
        Assert.Contains("Line 4: A defect needs a title.", error.Message);
        Assert.Equal(0, await _db.QueryAsync(db => db.Defects.CountAsync()));

        var good = string.Join("\r\n", Bad.Split("\r\n").Take(2));
        Assert.Equal(1, await _defects.ImportAsync(_db.Lead, _db.ProjectId, good));
        Assert.Equal("Good row", (await _db.QueryAsync(db => db.Defects.SingleAsync())).Title);
    }
}

internal static class DefectServiceTestSteps
{
    /// <summary>Lead assigns the owner, diagnoses and fixes: the defect ends Fixed at version 3.</summary>
    public static async Task SetOwnerAndFixAsync(this DefectService defects, Actor lead, long id, string ownerId)
    {
        var form = DefectServiceTests.Form();
        form.OwnerId = ownerId;
        await defects.UpdateAsync(lead, id, 0, form);
        await defects.DiagnoseAsync(lead, id, 1, "Scaled twice.");
        await defects.MarkFixedAsync(lead, id, 2, "0123abcd");
    }
}
