using Bunit;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.EntityFrameworkCore;
using MudBlazor;
using Portal.Web.Features.Defects;
using Portal.Web.Features.Projects;
using Portal.Web.Tests.Tasks;

namespace Portal.Web.Tests.Defects;

public sealed class DefectPagesTests : BoardComponentContext
{
    private const string Header = "Title,Component,Reporter,Manifestation,Part of Implementation,Impacts,Defect types,Root Causes\n";

    [Fact]
    public void Report_a_defect_links_to_the_projects_form_with_the_evidence_it_came_from()
    {
        var button = Render<ReportDefectButton>(p => p.Add(x => x.ProjectId, 7).Add(x => x.RunId, 12).Add(x => x.Layer, "backbone.conv 1"));

        Assert.EndsWith("projects/7/defects?run=12&layer=backbone.conv%201", button.Find("[data-testid=report-defect]").GetAttribute("href"));
        Assert.Equal("projects/7/defects?task=3", DefectLinks.Report(7, taskId: 3));
        Assert.Equal("projects/7/defects?design=4", DefectLinks.Report(7, designId: 4));
        Assert.Equal("projects/7/defects?discrepancy=5", DefectLinks.Report(7, discrepancyId: 5));
        Assert.Equal("projects/7/defects?checklist=6", DefectLinks.Report(7, checklistItemId: 6));
    }

    [Fact]
    public void The_places_where_a_defect_shows_offer_report_a_defect()
    {
        // Each page's source names the component once, prefilled with its own evidence.
        var features = Path.Combine(RepositoryRoot(), "src", "Portal.Web", "Features");
        foreach (var (file, evidence) in new[]
                 {
                     ("Runs/RunPage.razor", "RunId=\"run.Id\""), ("Runs/DifferentialRunPage.razor", "Layer=\"@l.Name\""),
                     ("Tasks/Board.razor", "TaskId=\"t.Id\""), ("Analysis/DiscrepancyPanel.razor", "DiscrepancyId=\"d.Id\""),
                     ("Design/DesignDocumentPage.razor", "DesignId=\"DocumentId\""),
                 })
        {
            var line = File.ReadLines(Path.Combine(features, file)).SingleOrDefault(l => l.Contains("ReportDefectButton"));
            Assert.True(line is not null && line.Contains(evidence), $"{file} has no ReportDefectButton with {evidence}");
        }
    }

    [Fact]
    public async Task A_file_with_bad_rows_lists_each_with_its_line_and_stores_nothing()
    {
        ActAs(Db.Lead);
        var page = Render<DefectImportPage>(p => p.Add(x => x.ProjectId, Db.ProjectId));
        page.WaitForElement("[data-testid=import-file]", TimeSpan.FromSeconds(30));

        page.FindComponent<InputFile>().UploadFiles(InputFileContent.CreateFromText(Header
            + "Good row,Backbone,Re-user,Basic defects,Training,Crash,Logic,API defects\n"
            + "Bad impact,Head,Re-user,Basic defects,Training,Explodes,Logic,API defects\n"
            + ",Neck,Adaptor,Basic defects,Modeling,Crash,Logic,Loss\n", "ours.csv"));

        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=import-problem]").Count), TimeSpan.FromSeconds(30));
        var problems = page.FindAll("[data-testid=import-problem]").Select(p => p.TextContent.Trim()).ToList();
        Assert.Equal(["Line 3: “Explodes” is not a known value of “Impacts”.", "Line 4: A defect needs a title."], problems);
        Assert.Equal("Nothing was imported.", page.Find("[data-testid=import-refused]").TextContent.Trim());
        Assert.Equal(0, await Db.QueryAsync(db => db.Defects.CountAsync()));
    }

    [Fact]
    public async Task A_good_file_imports_every_row()
    {
        ActAs(Db.Lead);
        var page = Render<DefectImportPage>(p => p.Add(x => x.ProjectId, Db.ProjectId));
        page.WaitForElement("[data-testid=import-file]", TimeSpan.FromSeconds(30));

        page.FindComponent<InputFile>().UploadFiles(InputFileContent.CreateFromText(Header
            + "BN momentum,Backbone,Replicator,Reproducibility defects,Modeling,Bad performance (lower accuracy),Assignment/Initialization,Layer properties\n"
            + "Mosaic differs,Data pipeline,Re-user,Basic defects,Data pipeline,Crash,Logic,Data preprocessing\n", "ours.csv"));

        page.WaitForAssertion(() => Assert.Contains("Imported 2 defect(s)", page.Find("[data-testid=import-done]").TextContent), TimeSpan.FromSeconds(30));
        Assert.Equal(["BN momentum", "Mosaic differs"], await Db.QueryAsync(db => db.Defects.OrderBy(d => d.Id).Select(d => d.Title).ToListAsync()));
    }

    [Fact]
    public async Task A_member_is_told_only_leads_import_and_nothing_is_stored()
    {
        ActAs(Db.Members[0]);
        var page = Render<DefectImportPage>(p => p.Add(x => x.ProjectId, Db.ProjectId));
        page.WaitForElement("[data-testid=import-file]", TimeSpan.FromSeconds(30));

        page.FindComponent<InputFile>().UploadFiles(InputFileContent.CreateFromText(Header + "x,Head,Re-user,Basic defects,Training,Crash,Logic,Loss\n", "ours.csv"));

        page.WaitForAssertion(() => Assert.Contains("lead", page.Find("[data-testid=import-refused]").TextContent), TimeSpan.FromSeconds(30));
        Assert.Equal(0, await Db.QueryAsync(db => db.Defects.CountAsync()));
    }

    [Fact]
    public async Task The_team_dashboard_counts_every_projects_defects_and_plots_them_beside_the_study()
    {
        long other;
        await using (var db = Db.CreateDbContext())
        {
            var project = new Project { Name = "Another reproduction", CreatedAt = Db.Clock.GetUtcNow() };
            db.Projects.Add(project);
            await db.SaveChangesAsync();
            other = project.Id;
        }
        var defects = Db.Get<DefectService>();
        await defects.ReportAsync(Db.Members[0], Db.ProjectId, DefectServiceTests.Form("First"));
        await defects.ReportAsync(Db.Members[0], other, DefectServiceTests.Form("Second"));
        await defects.ReportAsync(Db.Members[0], other, DefectServiceTests.Form("Third"));
        ActAs(Db.Members[0]);

        var page = Render<TeamDefectsPage>();

        page.WaitForAssertion(() => Assert.Contains("3 defect(s) in 2 project(s)", page.Find("[data-testid=team-defects-total]").TextContent), TimeSpan.FromSeconds(30));
        var rows = page.FindAll("[data-testid=team-defects-projects] tbody tr").Select(r => r.TextContent).ToList();
        Assert.Contains(rows, r => r.Contains("Another reproduction") && r.Contains("22"));
        foreach (var dimension in Enum.GetValues<DefectDimension>())
            Assert.Single(page.FindAll($"[data-testid=defects-chart-{dimension}]"));
        Assert.Single(page.FindAll("[data-testid=defects-open-chart] svg"));
        Assert.Contains("The team", page.Find("[data-testid=defects-chart-Impact]").InnerHtml);
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Portal.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Portal.sln not found above the test output.");
    }
}
