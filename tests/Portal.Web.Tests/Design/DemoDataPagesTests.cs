using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Testing;
using Portal.Web.Features.Analysis;
using Portal.Web.Features.Design;

namespace Portal.Web.Tests.Design;

/// <summary>The real server with demo data: the analysis, design and inbox pages render what the demo seeded.</summary>
public sealed class DemoDataPagesTests : IClassFixture<PortalAppFactory>
{
    private readonly PortalAppFactory _app;
    public DemoDataPagesTests(PortalAppFactory app) => _app = app;

    private Task<long> ProjectIdAsync(string name) =>
        _app.WithDbAsync(db => db.Projects.Where(p => p.Name == name).Select(p => p.Id).SingleAsync());

    [Fact]
    public async Task Every_demo_project_starts_from_the_checklist_template_and_YOLOv4_is_partly_answered()
    {
        _ = _app.ServerAddress;
        var counts = await _app.WithDbAsync(db => db.ChecklistItems.GroupBy(i => i.ProjectId).Select(g => new { Count = g.Count(), Answered = g.Count(i => i.Status == ChecklistItemStatus.Answered) }).ToListAsync());
        Assert.Equal(4, counts.Count);
        Assert.All(counts, c => Assert.Equal(ChecklistTemplate.Items.Count, c.Count));
        Assert.Single(counts, c => c.Answered > 0 && c.Answered < c.Count);
    }

    [Fact]
    public async Task The_YOLOv4_demo_has_exactly_one_hyperparameter_mismatch_and_contracts_for_backbone_neck_and_head()
    {
        var projectId = await ProjectIdAsync("YOLOv4");
        using var scope = _app.Services.CreateScope();
        var specs = scope.ServiceProvider.GetRequiredService<SpecificationService>();

        Assert.Single(await specs.HyperparametersAsync(projectId), h => h.IsMismatch);
        var components = (await specs.ContractsAsync(projectId)).Select(f => f.Component).Distinct().ToList();
        Assert.Equal([Portal.Web.Features.Tasks.ModelComponent.Backbone, Portal.Web.Features.Tasks.ModelComponent.Neck, Portal.Web.Features.Tasks.ModelComponent.Head], components);
    }

    [Fact]
    public async Task A_member_sees_the_analysis_checklists_with_their_sources()
    {
        var projectId = await ProjectIdAsync("YOLOv4");
        using var client = await SignedInClient.CreateAsync(_app.ServerAddress, "member8");
        var html = await client.GetStringAsync($"projects/{projectId}/analysis");
        Assert.Contains("Model and design", html);
        Assert.Contains("CSPDarknet53 backbone", html);
        Assert.Contains("Section 3.4", html);
    }

    [Fact]
    public async Task A_member_sees_the_design_documents_in_review_and_a_mentor_finds_the_request_in_the_inbox()
    {
        var projectId = await ProjectIdAsync("YOLOv4");
        using var member = await SignedInClient.CreateAsync(_app.ServerAddress, "member8");
        var list = await member.GetStringAsync($"projects/{projectId}/design");
        Assert.Contains("Neck: SPP and PANet", list);
        Assert.Contains("in review", list);

        var neckId = await _app.WithDbAsync(db => db.DesignDocuments.Where(d => d.Title == "Neck: SPP and PANet").Select(d => d.Id).SingleAsync());
        var page = await member.GetStringAsync($"projects/{projectId}/design/{neckId}");
        Assert.Contains("Contract of the Neck", page);
        Assert.Contains("fused features", page);

        using var mentor = await SignedInClient.CreateAsync(_app.ServerAddress, "mentor2");
        var inbox = await mentor.GetStringAsync("inbox");
        Assert.Contains("Neck: SPP and PANet", inbox);
        Assert.Contains("Review requested: 1", inbox);
    }
}
