using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using Portal.Web.Features.Defects;
using Portal.Web.Features.Runs;
using Portal.Web.Tests.Tasks;

namespace Portal.Web.Tests.Defects;

public sealed class DefectComponentTests : BoardComponentContext
{
    [Fact]
    public async Task Reporting_from_a_run_with_a_nan_loss_suggests_numerical_instability_in_training_and_stores_the_defect()
    {
        long runId;
        await using (var db = Db.CreateDbContext())
        {
            var run = new Run { ProjectId = Db.ProjectId, Recipe = "detector", Status = RunStatus.Failed, StartedById = Db.Members[0].UserId, QueuedAt = Db.Clock.GetUtcNow() };
            db.Runs.Add(run);
            await db.SaveChangesAsync();
            runId = run.Id;
            db.MetricPoints.Add(new MetricPoint { RunId = runId, Name = "train/loss", Step = 10, Value = double.NaN, WallTime = Db.Clock.GetUtcNow() });
            await db.SaveChangesAsync();
        }
        ActAs(Db.Members[0]);
        Render<MudPopoverProvider>();
        Render<MudSnackbarProvider>();
        var nav = Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>();
        nav.NavigateTo($"/projects/{Db.ProjectId}/defects?run={runId}");

        var page = Render<DefectsPage>(p => p.Add(x => x.ProjectId, Db.ProjectId));

        page.WaitForAssertion(() => Assert.Contains("loss became NaN", page.Find("[data-testid=defect-suggestion]").TextContent), TimeSpan.FromSeconds(30));
        await page.Find("[data-testid=defect-save]").ClickAsync(new());
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=defect-status]")), TimeSpan.FromSeconds(30));
        var stored = await Db.QueryAsync(db => db.Defects.SingleAsync());
        Assert.Equal((DefectImpact.NumericalInstability, DefectStage.Training, (long?)runId), (stored.Impact, stored.Stage, stored.RunId));
        Assert.NotEmpty(page.FindAll("[data-testid=defects-chart-Impact]"));
    }

    [Fact]
    public async Task A_defect_address_opens_that_defect_and_its_activity_entry_links_there()
    {
        var defects = Db.Get<DefectService>();
        await defects.ReportAsync(Db.Members[0], Db.ProjectId, DefectServiceTests.Form());
        var second = await defects.ReportAsync(Db.Members[1], Db.ProjectId, DefectServiceTests.Form());
        var link = await Db.QueryAsync(db => db.Activity.OrderByDescending(a => a.Id).Select(a => a.Link).FirstAsync());
        Assert.Equal($"projects/{Db.ProjectId}/defects?defect={second}", link);

        ActAs(Db.Members[0]);
        Render<MudPopoverProvider>();
        Render<MudSnackbarProvider>();
        Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>().NavigateTo("/" + link);
        var page = Render<DefectsPage>(p => p.Add(x => x.ProjectId, Db.ProjectId));

        page.WaitForAssertion(() => Assert.Equal(second.ToString(), page.Find("[data-testid=defect-actions]").GetAttribute("data-defect-id")), TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void The_chart_data_puts_the_projects_share_beside_the_studys_in_percent()
    {
        var facts = new[]
        {
            new DefectFacts("Head", DefectStatus.Open, ReporterKind.ReUser, DefectManifestation.Basic, DefectStage.Training, DefectImpact.Crash,
                DefectType.Logic, RootCause.Api, DateTimeOffset.UnixEpoch, null),
            new DefectFacts("Loss", DefectStatus.Diagnosed, ReporterKind.Adaptor, DefectManifestation.Basic, DefectStage.Training, DefectImpact.Crash,
                DefectType.Logic, RootCause.Api, DateTimeOffset.UnixEpoch, null),
        };

        var reporter = DefectChartData.Shares(DefectStatistics.Distribution(facts, DefectDimension.Reporter), "YOLOv4");
        var open = DefectChartData.OpenByComponent(DefectStatistics.OpenByComponentAndStatus(facts));

        Assert.Equal(["Re-user", "Adaptor", "Enhancer", "Replicator", "Other"], reporter.Labels);
        Assert.Equal([50.0, 50.0, 0, 0, 0], reporter.Series[0].Data);
        Assert.Equal([58.0, 26.0, 14.0, 1.0, 0], reporter.Series[1].Data);
        Assert.Equal(["Head", "Loss"], open.Labels);
        Assert.Equal([("Open", new double[] { 1, 0 }), ("Diagnosed", new double[] { 0, 1 }), ("Fixed", new double[] { 0, 0 })],
            open.Series.Select(s => (s.Name, s.Data)));
    }
}
