using Bunit;
using Portal.Web.Features.Defects;
using Portal.Web.Features.Projects;
using Portal.Web.Features.Reproducibility;
using Portal.Web.Features.Runs;
using Portal.Web.Tests.Defects;
using Portal.Web.Tests.Tasks;

namespace Portal.Web.Tests.Reproducibility;

public sealed class DefectMarkerTests : BoardComponentContext
{
    private async Task<long> AddRunAsync(string commit, double? ap, RunStatus status = RunStatus.Succeeded, int day = 0)
    {
        await using var db = Db.CreateDbContext();
        var run = new Run
        {
            ProjectId = Db.ProjectId, Recipe = "detector", Dataset = "COCO", Split = "val", Commit = commit, Status = status,
            StartedById = Db.Members[0].UserId, QueuedAt = DateTimeOffset.UnixEpoch.AddDays(day),
            FinalMetrics = ap is { } v ? [new RunFinalMetric { Name = "AP", Value = v }] : [],
        };
        db.Runs.Add(run);
        await db.SaveChangesAsync();
        return run.Id;
    }

    [Fact]
    public async Task A_defect_fixed_by_a_commit_and_one_shown_by_a_run_at_a_commit_are_marked_at_those_commits_with_title_and_link()
    {
        await using (var db = Db.CreateDbContext())
        {
            db.Add(new PaperClaim { ProjectId = Db.ProjectId, Metric = "AP", Dataset = "COCO", Split = "val", Value = 40 });
            await db.SaveChangesAsync();
        }
        await AddRunAsync("aaaaaaaa1111", 38, day: 1);
        var dip = await AddRunAsync("bbbbbbbb2222", 31, day: 2);
        await AddRunAsync("cccccccc3333", 39.5, day: 3);
        var defects = Db.Get<DefectService>();
        var shown = await defects.ReportAsync(Db.Members[0], Db.ProjectId, DefectServiceTests.Form("Mosaic differs from the reference", runId: dip));
        var fixedOne = await defects.ReportAsync(Db.Members[0], Db.ProjectId, DefectServiceTests.Form());
        await defects.SetOwnerAndFixAsync(Db.Lead, fixedOne, Db.Members[0].UserId);
        await defects.ReportAsync(Db.Members[0], Db.ProjectId, DefectServiceTests.Form("No commit to place"));

        var data = await Db.Get<ReproducibilityService>().GetAsync(Db.ProjectId);

        // SetOwnerAndFixAsync names commit 0123abcd, which no run was built from: it has no place on the chart.
        Assert.Equal([(shown, "bbbbbbbb2222", false), (fixedOne, "0123abcd", true)], data.Defects.Select(d => (d.DefectId, d.Commit, d.FixedHere)));
        await using (var db = Db.CreateDbContext())
        {
            var d = await db.Defects.FindAsync(fixedOne);
            d!.FixCommit = "cccccccc3333ffff";
            await db.SaveChangesAsync();
        }
        data = await Db.Get<ReproducibilityService>().GetAsync(Db.ProjectId);
        var standing = Assert.Single(data.Claims);
        Assert.Equal([(1, shown), (2, fixedOne)], ReproducibilityService.MarkersOn(standing.ByCommit, data.Defects).Select(m => (m.Index, m.Defect.DefectId)));

        var chart = Render<CommitChart>(p => p.Add(x => x.Standing, standing).Add(x => x.ProjectId, Db.ProjectId).Add(x => x.Defects, data.Defects));

        var markers = chart.FindAll("[data-testid=defect-marker]");
        Assert.Equal(2, markers.Count);
        Assert.Equal($"Defect #{shown} shown at bbbbbbbb2222: Mosaic differs from the reference", markers[0].QuerySelector("title")!.TextContent);
        Assert.Equal($"Defect #{fixedOne} fixed at cccccccc3333ffff: Loss is NaN after 200 steps", markers[1].QuerySelector("title")!.TextContent);
        Assert.All(markers, m => Assert.Equal($"projects/{Db.ProjectId}/defects", m.GetAttribute("href")));
        // Each marker stands at its commit's point: the dip's x for the first, the last commit's x for the second.
        var circles = chart.FindAll("circle");
        Assert.Equal(circles[1].GetAttribute("cx"), markers[0].QuerySelector("line")!.GetAttribute("x1"));
        Assert.Equal(circles[2].GetAttribute("cx"), markers[1].QuerySelector("line")!.GetAttribute("x1"));
    }
}
