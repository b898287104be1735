using Microsoft.EntityFrameworkCore;
using Portal.Testing;
using Portal.Testing.Curves;

namespace Portal.Browser.Tests.Runs;

public sealed class RunProgressJourneyTests(PortalAppFactory app, BrowserFixture browser) : IClassFixture<PortalAppFactory>, IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task A_running_run_shows_its_step_of_the_total_a_bar_and_the_time_left_on_the_list_and_its_page()
    {
        // A detector run (1,500 steps by its recipe) at step 599, logging 100 steps a second.
        var runId = await CurveTestData.CreateRunAsync(app);
        await CurveTestData.WritePointsAsync(app, runId, CurveTestData.Curve("train/loss", 0, 600));
        var projectId = await app.WithDbAsync(async db =>
        {
            var run = await db.Runs.FirstAsync(r => r.Id == runId);
            run.LastStep = 599;
            await db.SaveChangesAsync();
            return run.ProjectId;
        });

        var page = await browser.SignInAsync(app.ServerAddress, "member1");
        await page.GotoAsync($"projects/{projectId}/runs");
        var row = page.Locator("[data-testid=run-row]", new() { Has = page.Locator($"a[href='runs/{runId}']") });
        await row.Locator("[data-testid=run-progress-text] >> text=step 599 of 1,500").WaitForAsync();
        Assert.True(await row.Locator("[data-testid=run-progress-bar]").IsVisibleAsync());
        Assert.Equal("less than a minute left", await row.Locator("[data-testid=run-eta]").InnerTextAsync());

        await page.GotoAsync($"runs/{runId}");
        await page.WaitForSelectorAsync("[data-testid=run-progress-text] >> text=step 599 of 1,500");
        Assert.Equal("less than a minute left", await page.InnerTextAsync("[data-testid=run-eta]"));
        Assert.Equal("599", await page.GetAttributeAsync("[data-testid=run-progress]", "data-step"));
        Assert.Equal("1500", await page.GetAttributeAsync("[data-testid=run-progress]", "data-total"));
        Assert.True(await page.Locator("[data-testid=run-progress-bar]").IsVisibleAsync());
    }

    [Fact]
    public async Task A_finished_run_shows_its_step_without_a_time_left()
    {
        var runId = await CurveTestData.CreateRunAsync(app, status: Portal.Web.Features.Runs.RunStatus.Succeeded);
        await app.WithDbAsync(async db =>
        {
            var run = await db.Runs.FirstAsync(r => r.Id == runId);
            run.LastStep = 1_500;
            return await db.SaveChangesAsync();
        });

        var page = await browser.SignInAsync(app.ServerAddress, "member1");
        await page.GotoAsync($"runs/{runId}");
        await page.WaitForSelectorAsync("[data-testid=run-progress-text] >> text=step 1,500 of 1,500");
        Assert.Equal(0, await page.Locator("[data-testid=run-eta]").CountAsync());
    }
}
