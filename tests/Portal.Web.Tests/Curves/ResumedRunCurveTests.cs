using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Testing;
using Portal.Testing.Curves;
using Portal.Web.Features.Curves;
using Portal.Web.Features.Runs;
using Portal.Web.Infrastructure;

namespace Portal.Web.Tests.Curves;

public sealed class ResumedRunCurveTests(PortalAppFactory app) : IClassFixture<PortalAppFactory>
{
    [Fact]
    public async Task After_a_resume_the_chart_shows_the_new_points_not_the_replaced_ones()
    {
        var curves = app.Services.GetRequiredService<CurveService>();
        var runId = await CurveTestData.CreateRunAsync(app, startedBy: "member3", status: RunStatus.Lost);
        var before = CurveTestData.Curve("train/loss", 1, 10_000).Select(p => p with { Value = 1.0 }).ToList();
        await CurveTestData.WritePointsAsync(app, runId, before, publish: false);
        Assert.Equal(1.0, Assert.Single(await curves.GetSeriesAsync([runId], "train/loss", null, null)).Values.Max());
        await using (var db = await app.DbFactory.CreateDbContextAsync())
            await db.Runs.Where(r => r.Id == runId).ExecuteUpdateAsync(r => r.SetProperty(x => x.LastCheckpointStep, 5_000L));

        using (var scope = app.Services.CreateScope())
        {
            var lead = await app.WithDbAsync(db => db.Users.Where(u => u.UserName == "techlead").Select(u => u.Id).SingleAsync());
            await scope.ServiceProvider.GetRequiredService<RunService>().ResumeAsync(
                new Actor(lead, "techlead", new HashSet<string> { "Lead" }), runId);
        }
        var after = CurveTestData.Curve("train/loss", 5_001, 5_000).Select(p => p with { Value = 5.0 }).ToList();
        await CurveTestData.WritePointsAsync(app, runId, after, publish: false);

        var data = Assert.Single(await curves.GetSeriesAsync([runId], "train/loss", null, null));
        Assert.Equal(10_000, data.Count);
        Assert.True(data.Level > 0, "the series is long enough to be read from the stored summaries");
        var shown = data.Steps.Zip(data.Values).ToList();
        Assert.All(shown.Where(p => p.First > 5_000), p => Assert.Equal(5.0, p.Second));
        Assert.All(shown.Where(p => p.First <= 5_000), p => Assert.Equal(1.0, p.Second));
    }
}
