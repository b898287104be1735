using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Testing;
using Portal.Web.Features.Releases;
using Portal.Web.Features.Runs;

namespace Portal.Web.Tests.Runs;

/// <summary>The real server with demo data: the YOLOv4-tiny project's differential runs, their page and the release gate.</summary>
public sealed class DemoDifferentialRunsTests(PortalAppFactory app) : IClassFixture<PortalAppFactory>
{
    [Fact]
    public async Task The_YOLOv4_tiny_demo_holds_a_differential_run_that_caught_a_planted_fault_and_one_after_the_fix()
    {
        _ = app.ServerAddress;
        var runs = await app.WithDbAsync(db => db.Runs.Where(r => r.Recipe == "differential" && db.Projects.Any(p => p.Id == r.ProjectId && p.Name == "YOLOv4-tiny")).OrderBy(r => r.Id).Select(r => r.Id).ToListAsync());
        Assert.Equal(2, runs.Count);
        var differential = app.Services.GetRequiredService<DifferentialRuns>();

        var caught = await differential.GetAsync(runs[0]);
        var fixedRun = await differential.GetAsync(runs[1]);

        Assert.Equal("backbone.stem0.bn", caught.Report!.FirstDivergingLayer);
        Assert.Contains("Batch-norm epsilon", caught.Report.LikelyCause);
        Assert.True(fixedRun.Report!.Passed);

        using var member = await SignedInClient.CreateAsync(app.ServerAddress, "member3");
        var html = WebUtility.HtmlDecode(await member.GetStringAsync($"runs/{runs[0]}/differential"));
        Assert.Contains("First diverging layer", html);
        Assert.Contains("backbone.stem0.bn", html);
    }

    [Fact]
    public async Task The_demo_release_passes_the_reference_match_gate_on_the_fixed_commit()
    {
        _ = app.ServerAddress;
        var id = await app.WithDbAsync(db => db.Releases.Where(r => r.Name == "YOLOv4-tiny").Select(r => r.Id).SingleAsync());
        using var scope = app.Services.CreateScope();
        var releases = scope.ServiceProvider.GetRequiredService<ReleaseService>();

        var gate = (await releases.GetAsync(id)).Gates.Single(g => g.Kind == GateKind.ReferenceMatch);

        Assert.True(gate.Passed, gate.Summary);
        Assert.Contains("c7e5a9d2", gate.Summary);
    }
}
