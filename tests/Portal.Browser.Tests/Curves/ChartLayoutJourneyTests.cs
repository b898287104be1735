using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using Portal.Testing;
using Portal.Testing.Curves;

namespace Portal.Browser.Tests.Curves;

/// <summary>Charts in a grid with synced x axes, labels that stay whole at any zoom, and the compare page's picker and config table.</summary>
public sealed class ChartLayoutJourneyTests(PortalAppFactory app, BrowserFixture browser) : IClassFixture<PortalAppFactory>, IClassFixture<BrowserFixture>
{
    private const string CurvesModule = "/js/curves/curves.js";

    private static string Chart(string metric) => $"[data-testid=chart][data-metric=\"{metric}\"]";

    private static string Field(string testId) => $"input[data-testid={testId}], [data-testid={testId}] input";

    private async Task<(long RunId, long ProjectId)> RunWithCurvesAsync()
    {
        var runId = await CurveTestData.CreateRunAsync(app);
        var projectId = await app.WithDbAsync(db => db.Runs.Where(r => r.Id == runId).Select(r => r.ProjectId).FirstAsync());
        await CurveTestData.WritePointsAsync(app, runId, [
            .. CurveTestData.Curve("train/loss", 0, 700),
            .. CurveTestData.Curve("eval/AP50", 0, 700).Where(p => p.Step % 50 == 0).Select(p => p with { Value = 30 + p.Step * 0.015 })]);
        return (runId, projectId);
    }

    /// <summary>A run with a loss and an AP50 curve, open on the compare page with both charts drawn.</summary>
    private async Task<(IPage Page, long RunId)> OpenChartsAsync(string userName)
    {
        var (runId, projectId) = await RunWithCurvesAsync();
        var page = await browser.SignInAsync(app.ServerAddress, userName);
        await page.GotoAsync($"projects/{projectId}/compare?runs={runId}");
        await page.WaitForSelectorAsync($"{Chart("eval/AP50")}[data-ready=true]");
        await page.WaitForSelectorAsync($"{Chart("train/loss")}[data-ready=true]");
        return (page, runId);
    }

    private static async Task<LocatorBoundingBoxResult> BoxAsync(ILocator locator) =>
        await locator.BoundingBoxAsync() ?? throw new InvalidOperationException("The element is not shown.");

    private static void AssertInside(LocatorBoundingBoxResult inner, LocatorBoundingBoxResult outer, string what)
    {
        Assert.True(inner.Width > 20 && inner.Height > 8, $"{what} is too small to read: {inner.Width}x{inner.Height}");
        Assert.True(inner.X >= outer.X - 0.5 && inner.X + inner.Width <= outer.X + outer.Width + 0.5
                    && inner.Y >= outer.Y - 0.5 && inner.Y + inner.Height <= outer.Y + outer.Height + 0.5,
            $"{what} ({inner.X},{inner.Y} {inner.Width}x{inner.Height}) is not inside the plot ({outer.X},{outer.Y} {outer.Width}x{outer.Height})");
    }

    private static async Task<double> XAttributeAsync(IPage page, string metric, string name) =>
        double.Parse((await page.GetAttributeAsync(Chart(metric), name))!, CultureInfo.InvariantCulture);

    [Fact]
    public async Task The_claim_label_and_a_review_label_are_whole_and_inside_the_plot_before_and_after_a_zoom()
    {
        var (page, runId) = await OpenChartsAsync("mentor2");

        // A review of steps 50-300 of the loss.
        await page.ClickAsync("[data-testid=annotate-metric] .mud-select-input, [data-testid=annotate-metric]");
        await page.ClickAsync(".mud-popover-open .mud-list-item >> text=\"train/loss\"");
        await page.FillAsync(Field("annotate-from"), "50");
        await page.FillAsync(Field("annotate-to"), "300");
        await page.FillAsync(Field("annotate-comment"), "Loss plateau here: check the warm-up schedule");
        await page.ClickAsync("[data-testid=annotate-add]");
        await page.WaitForSelectorAsync($"{Chart("train/loss")}[data-annotations=\"1\"]");

        async Task LabelsInsideAsync(string when)
        {
            var claim = page.Locator($"{Chart("eval/AP50")} [data-testid=claim-label]");
            Assert.StartsWith("paper AP50 42", await claim.InnerTextAsync());
            AssertInside(await BoxAsync(claim), await BoxAsync(page.Locator($"{Chart("eval/AP50")} .u-over")), $"The claim label {when}");

            var review = page.Locator($"{Chart("train/loss")} [data-testid=review-label]");
            Assert.StartsWith($"#{runId}: Loss plateau", await review.InnerTextAsync());
            AssertInside(await BoxAsync(review), await BoxAsync(page.Locator($"{Chart("train/loss")} .u-over")), $"The review label {when}");
        }

        await LabelsInsideAsync("on the whole run");

        // Zoomed to 100-200, the review's band starts left of the view: its label starts at the view's edge.
        Assert.True(await page.EvaluateAsync<bool>($"async () => (await import('{CurvesModule}')).zoom('train/loss', 100, 200)"));
        await page.WaitForSelectorAsync($"{Chart("train/loss")}[data-zoom-level=\"0\"]");
        await LabelsInsideAsync("zoomed in");
    }

    [Fact]
    public async Task Charts_stand_in_two_columns_and_hovering_or_zooming_one_shows_the_same_steps_on_the_others()
    {
        var (page, _) = await OpenChartsAsync("mentor3");

        // 1400 px wide: the two charts side by side.
        var first = await BoxAsync(page.Locator(Chart("eval/AP50")));
        var second = await BoxAsync(page.Locator(Chart("train/loss")));
        Assert.Equal(first.Y, second.Y, 1.0);
        Assert.True(second.X > first.X + first.Width, "The second chart is not beside the first.");

        // Hovering the middle of the loss chart (step ~350) shows that step on the AP50 chart too (its points are
        // every 50 steps, so its nearest is 350).
        await page.Locator($"{Chart("train/loss")} .u-over").HoverAsync();
        await page.WaitForFunctionAsync($"() => document.querySelector('{Chart("eval/AP50")} .u-legend .u-series .u-value')?.textContent === '350'");

        Assert.True(await page.EvaluateAsync<bool>($"async () => (await import('{CurvesModule}')).zoom('train/loss', 250, 400)"));
        await page.WaitForFunctionAsync($"() => document.querySelector('{Chart("eval/AP50")}').dataset.xMin === '250'");
        Assert.Equal(400, await XAttributeAsync(page, "eval/AP50", "data-x-max"));
        // The other chart fetches its own zoomed range, at full resolution.
        await page.WaitForSelectorAsync($"{Chart("eval/AP50")}[data-zoom-level=\"0\"]");

        // Zooming the other one back leads the first.
        Assert.True(await page.EvaluateAsync<bool>($"async () => (await import('{CurvesModule}')).zoom('eval/AP50', 300, 350)"));
        await page.WaitForFunctionAsync($"() => document.querySelector('{Chart("train/loss")}').dataset.xMin === '300'");
        Assert.Equal(350, await XAttributeAsync(page, "train/loss", "data-x-max"));
    }

    [Fact]
    public async Task The_compare_page_keeps_the_project_tabs_picks_several_runs_by_name_and_highlights_differing_config()
    {
        var projectId = await app.WithDbAsync(db => db.Projects.Where(p => p.Name == "YOLOv4-tiny").Select(p => p.Id).FirstAsync());
        var a = await CurveTestData.CreateRunAsync(app);
        var b = await CurveTestData.CreateRunAsync(app);
        await app.WithDbAsync(async db =>
        {
            var runs = await db.Runs.Where(r => r.Id == a || r.Id == b).ToListAsync();
            runs.Single(r => r.Id == a).ConfigJson = """{ "steps": 40, "batchSize": 8 }""";
            runs.Single(r => r.Id == b).ConfigJson = """{ "steps": 80, "batchSize": 8 }""";
            return await db.SaveChangesAsync();
        });

        var page = await browser.SignInAsync(app.ServerAddress, "mentor1");
        await page.GotoAsync($"projects/{projectId}/compare");
        await page.WaitForSelectorAsync("[data-testid=compare-empty]");
        await page.WaitForSelectorAsync(".mud-tabs >> text=Runs");
        await BrowserFixture.WaitForCircuitAsync(page);

        // Two picks in one opening of the picker; the choice applies when it closes.
        await page.ClickAsync("[data-testid=compare-runs] .mud-select-input, [data-testid=compare-runs]");
        await page.ClickAsync($".mud-popover-open .mud-list-item:has-text(\"#{a} detector @0123456 (\")");
        await page.ClickAsync($".mud-popover-open .mud-list-item:has-text(\"#{b} detector @0123456 (\")");
        // Both picks have reached the server (the field shows them) and the picker is still open.
        await page.WaitForFunctionAsync($"() => (document.querySelector('input[data-testid=compare-runs], [data-testid=compare-runs] input')?.value ?? '').includes('#{b} detector')");
        Assert.True(await page.Locator(".mud-popover-open .mud-list-item").First.IsVisibleAsync(), "The picker closed after a pick.");
        await page.Keyboard.PressAsync("Escape");
        // The choice goes into the URL (a client-side navigation, so no load event to wait for).
        await page.WaitForFunctionAsync($"() => location.search === '?runs={a},{b}'");

        // The picker names the runs, not their ids.
        Assert.Contains($"#{a} detector", await page.InputValueAsync("input[data-testid=compare-runs], [data-testid=compare-runs] input"));
        var steps = page.Locator("[data-testid=config-row][data-key=steps]");
        await steps.WaitForAsync();
        Assert.Equal("true", await steps.GetAttributeAsync("data-differs"));
        Assert.Contains("config-differs", await steps.GetAttributeAsync("class") ?? "");
        Assert.NotEqual("rgba(0, 0, 0, 0)", await steps.Locator("td").First.EvaluateAsync<string>("td => getComputedStyle(td).backgroundColor"));
        Assert.Equal("false", await page.GetAttributeAsync("[data-testid=config-row][data-key=batchSize]", "data-differs"));
        Assert.Equal("rgba(0, 0, 0, 0)", await page.Locator("[data-testid=config-row][data-key=batchSize] td").First.EvaluateAsync<string>("td => getComputedStyle(td).backgroundColor"));
        Assert.Contains($"#{b} detector", await page.InnerTextAsync("[data-testid=compare-configs] thead"));
    }
}
