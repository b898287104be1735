using Microsoft.EntityFrameworkCore;
using Portal.Web.Features.Projects;
using Portal.Web.Infrastructure;
using Portal.Web.Tests.Tasks;

namespace Portal.Web.Tests.Projects;

public sealed class ProjectEditingTests : IAsyncLifetime
{
    private BoardDatabase _db = default!;

    public async Task InitializeAsync() => _db = await BoardDatabase.CreateAsync();
    public async Task DisposeAsync() => await _db.DisposeAsync();

    private static ProjectForm Form(string name = "YOLOv4-P5") => new()
    {
        Name = name, PaperTitle = "Scaled-YOLOv4", PaperAuthors = "Wang, Bochkovskiy, Liao", PaperYear = 2021, PaperUrl = "https://arxiv.org/abs/2011.08036",
        Tolerance = 0.5, ClaimLimitPerMember = 2,
        Claims = [new() { Metric = "AP", Dataset = "COCO", Split = "test-dev", Value = 51.8, Source = "Table 5" }],
        References = [new() { RepositoryUrl = "https://github.com/WongKinYiu/ScaledYOLOv4", Framework = "PyTorch" }],
    };

    private Task<Project> LoadAsync(long id) => _db.QueryAsync(db =>
        db.Projects.Include(p => p.Claims).Include(p => p.References).Include(p => p.StageHistory).SingleAsync(p => p.Id == id));

    [Fact]
    public async Task A_lead_creates_a_project_with_its_paper_claims_references_and_tolerance()
    {
        var id = await _db.Projects.CreateAsync(_db.Lead, Form());

        var project = await LoadAsync(id);
        Assert.Equal(("YOLOv4-P5", 0.5, 2, ReproductionStage.ModelSelection), (project.Name, project.Tolerance, project.ClaimLimitPerMember, project.Stage));
        Assert.Equal(51.8, Assert.Single(project.Claims).Value);
        Assert.Equal("PyTorch", Assert.Single(project.References).Framework);
        Assert.Contains("created", Assert.Single(await _db.QueryAsync(db => db.Activity.Where(a => a.ProjectId == id).ToListAsync())).Text);
    }

    [Fact]
    public async Task A_new_project_starts_its_paper_analysis_from_the_checklist_template()
    {
        var id = await _db.Projects.CreateAsync(_db.Lead, Form());

        var items = await _db.QueryAsync(db => db.ChecklistItems.Where(i => i.ProjectId == id).ToListAsync());
        Assert.Equal(Portal.Web.Features.Analysis.ChecklistTemplate.Items.Count, items.Count);
    }

    [Theory]
    [InlineData(-0.5)]
    [InlineData(double.NaN)]
    public async Task A_tolerance_below_zero_is_refused_and_nothing_is_stored(double tolerance)
    {
        var form = Form();
        form.Tolerance = tolerance;
        var error = await Assert.ThrowsAsync<PortalError>(() => _db.Projects.CreateAsync(_db.Lead, form));
        Assert.Contains("below zero", error.Message);
        Assert.Equal(1, await _db.QueryAsync(db => db.Projects.CountAsync()));
    }

    [Fact]
    public async Task A_claim_without_its_split_is_refused_because_numbers_on_other_splits_do_not_compare()
    {
        var form = Form();
        form.Claims[0].Split = "";
        var error = await Assert.ThrowsAsync<PortalError>(() => _db.Projects.CreateAsync(_db.Lead, form));
        Assert.Contains("split", error.Message);
        Assert.Equal(1, await _db.QueryAsync(db => db.Projects.CountAsync()));
    }

    [Theory]
    [InlineData("", "name")]
    [InlineData("YOLOv4", "already")]
    public async Task A_project_without_a_name_or_with_a_taken_one_is_refused(string name, string hint)
    {
        var error = await Assert.ThrowsAsync<PortalError>(() => _db.Projects.CreateAsync(_db.Lead, Form(name)));
        Assert.Contains(hint, error.Message);
    }

    [Fact]
    public async Task A_lead_edits_a_project_and_a_stale_edit_is_refused()
    {
        var id = await _db.Projects.CreateAsync(_db.Lead, Form());
        var edit = Form();
        edit.Tolerance = 1.0;
        edit.Claims.Add(new() { Metric = "AP50", Dataset = "COCO", Split = "test-dev", Value = 70.3, Source = "Table 5" });
        await _db.Projects.UpdateAsync(_db.Lead, id, 0, edit);

        var stale = Form();
        stale.Tolerance = 2.0;
        await Assert.ThrowsAsync<PortalError>(() => _db.Projects.UpdateAsync(_db.Lead, id, 0, stale));

        var project = await LoadAsync(id);
        Assert.Equal((1.0, 2, 1), (project.Tolerance, project.Claims.Count, project.Version));
    }

    [Fact]
    public async Task A_lead_advances_the_stage_and_sends_it_back_with_a_reason_kept_in_the_history()
    {
        await _db.Projects.AdvanceAsync(_db.Lead, _db.ProjectId, 0);
        await _db.Projects.SendBackAsync(_db.Lead, _db.ProjectId, 1, ReproductionStage.PaperAnalysis, "Augmentation values disagree with the reference code");

        var project = await LoadAsync(_db.ProjectId);
        Assert.Equal(ReproductionStage.PaperAnalysis, project.Stage);
        var back = project.StageHistory.OrderBy(s => s.Id).Last();
        Assert.Equal((ReproductionStage.Design, ReproductionStage.PaperAnalysis, "Augmentation values disagree with the reference code"), (back.From, back.To, back.Reason));
        Assert.Equal(2, await _db.QueryAsync(db => db.Activity.CountAsync()));
    }

    [Fact]
    public async Task Sending_back_needs_a_reason_and_an_earlier_stage()
    {
        await Assert.ThrowsAsync<PortalError>(() => _db.Projects.SendBackAsync(_db.Lead, _db.ProjectId, 0, ReproductionStage.ModelSelection, " "));
        await Assert.ThrowsAsync<PortalError>(() => _db.Projects.SendBackAsync(_db.Lead, _db.ProjectId, 0, ReproductionStage.Training, "later"));
        var project = await LoadAsync(_db.ProjectId);
        Assert.Equal((ReproductionStage.PaperAnalysis, 0), (project.Stage, project.StageHistory.Count));
    }

    [Fact]
    public async Task A_double_click_on_advance_moves_the_project_only_one_stage()
    {
        await _db.Projects.AdvanceAsync(_db.Lead, _db.ProjectId, 0);
        await Assert.ThrowsAsync<PortalError>(() => _db.Projects.AdvanceAsync(_db.Lead, _db.ProjectId, 0));
        Assert.Equal(ReproductionStage.Design, (await LoadAsync(_db.ProjectId)).Stage);
    }

    [Fact]
    public async Task Only_leads_change_projects()
    {
        foreach (var actor in new[] { _db.Members[0], _db.Mentor, _db.Admin })
        {
            await Assert.ThrowsAsync<PortalError>(() => _db.Projects.CreateAsync(actor, Form("other")));
            await Assert.ThrowsAsync<PortalError>(() => _db.Projects.AdvanceAsync(actor, _db.ProjectId, 0));
            await Assert.ThrowsAsync<PortalError>(() => _db.Projects.SendBackAsync(actor, _db.ProjectId, 0, ReproductionStage.ModelSelection, "why"));
        }
        Assert.Equal(ReproductionStage.PaperAnalysis, (await LoadAsync(_db.ProjectId)).Stage);
    }
}
