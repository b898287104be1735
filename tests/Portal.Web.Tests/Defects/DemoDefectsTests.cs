using Microsoft.EntityFrameworkCore;
using Portal.Testing;
using Portal.Web.Features.Defects;

namespace Portal.Web.Tests.Defects;

/// <summary>The real server with demo data: YOLO projects carry the defects the YOLO team met, and the page and export show them.</summary>
public sealed class DemoDefectsTests(PortalAppFactory app) : IClassFixture<PortalAppFactory>
{
    [Fact]
    public async Task Every_demo_YOLO_project_carries_four_demo_defects_linked_to_their_tasks_and_the_page_and_export_show_them()
    {
        _ = app.ServerAddress;
        var projects = await app.WithDbAsync(db => db.Projects.Where(p => p.IsDemo && p.Name.Contains("YOLO")).Select(p => p.Id).ToListAsync());
        Assert.NotEmpty(projects);
        foreach (var id in projects)
        {
            var defects = await app.WithDbAsync(db => db.Defects.Where(d => d.ProjectId == id).ToListAsync());
            Assert.Equal(4, defects.Count);
            Assert.All(defects, d => Assert.True(d.IsDemo && d.TaskId is not null, d.Title));
            Assert.Contains(defects, d => d.RootCause == RootCause.WrongEnvironmentConfiguration && d.Stage == DefectStage.Environment);
        }

        using var client = await SignedInClient.CreateAsync(app.ServerAddress, "member8");
        var html = await client.GetStringAsync($"projects/{projects[0]}/defects");
        var csv = await client.GetStringAsync($"projects/{projects[0]}/defects/export");

        Assert.Contains("Batch-norm momentum default differs between frameworks", html);
        Assert.Contains("Objectness loss term scaled differently", csv);
        Assert.Equal(4, DefectCsv.Read(csv).Rows.Count);
    }
}
