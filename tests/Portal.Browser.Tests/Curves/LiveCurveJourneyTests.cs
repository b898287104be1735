using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using Portal.Testing;
using Portal.Testing.Curves;

namespace Portal.Browser.Tests.Curves;

public sealed class LiveCurveJourneyTests : IClassFixture<PortalAppFactory>, IClassFixture<BrowserFixture>
{
    private readonly PortalAppFactory _app;
    private readonly BrowserFixture _browser;

    public LiveCurveJourneyTests(PortalAppFactory app, BrowserFixture browser) => (_app, _browser) = (app, browser);

    // MudBlazor puts a field's extra attributes on its <input>.
    private static string Field(string testId) => $"input[data-testid={testId}], [data-testid={testId}] input";

    // The page's chart module: importing it again gives the same module instance the page uses.
    private const string CurvesModule = "/js/curves/curves.js";

    private static string Chart(string metric) => $"[data-testid=chart][data-metric=\"{metric}\"]";

    [Fact]
    public async Task A_mentor_watches_a_running_curve_grow_annotates_a_step_range_and_a_second_viewer_sees_the_review()
    {
        var server = _app.ServerAddress;
        var runId = await CurveTestData.CreateRunAsync(_app);
        var projectId = await _app.WithDbAsync(db => db.Runs.Where(r => r.Id == runId).Select(r => r.ProjectId).FirstAsync());
        var loss = CurveTestData.Curve("train/loss", 0, 700);
        loss[250] = loss[250] with { Value = double.NaN };
        await CurveTestData.WritePointsAsync(_app, runId, [.. loss[..500], .. CurveTestData.Curve("eval/AP50", 0, 3).Select(p => p with { Value = 41.5 + p.Step * 0.1 })]);

        var mentor = await _browser.SignInAsync(server, "mentor1");
        await mentor.GotoAsync($"projects/{projectId}/compare?runs={runId}");
        await mentor.WaitForSelectorAsync($"{Chart("train/loss")}[data-ready=true][data-last-step=\"499\"]");
        // The claim band's gap sits beside the evaluation chart (AP50 of YOLOv4-tiny: 42.0).
        await mentor.WaitForSelectorAsync($"{Chart("eval/AP50")} [data-testid=curve-gap] >> text=Paper AP50");
        Assert.Equal(1, await mentor.Locator("canvas").First.CountAsync());

        // Training goes on while the page is open: the curve grows without a reload.
        await CurveTestData.WritePointsAsync(_app, runId, loss[500..]);
        await mentor.WaitForSelectorAsync($"{Chart("train/loss")}[data-last-step=\"699\"]");
        Assert.Equal("700", await mentor.GetAttributeAsync(Chart("train/loss"), "data-points"));

        var viewer = await _browser.SignInAsync(server, "lead.modeling");
        await viewer.GotoAsync($"projects/{projectId}/compare?runs={runId}");
        await viewer.WaitForSelectorAsync($"{Chart("train/loss")}[data-ready=true]");

        await mentor.SelectOptionOrClickAsync("[data-testid=annotate-metric]", "train/loss");
        await mentor.FillAsync(Field("annotate-from"), "100");
        await mentor.FillAsync(Field("annotate-to"), "200");
        await mentor.FillAsync(Field("annotate-comment"), "Loss flattens between 100 and 200: warm-up too short?");
        await mentor.ClickAsync("[data-testid=annotate-add]");

        await viewer.WaitForSelectorAsync("[data-testid=annotation] >> text=warm-up too short?");
        await viewer.WaitForSelectorAsync($"{Chart("train/loss")}[data-annotations=\"1\"]");

        // A review outside the run's steps is refused with a message; the page keeps working.
        await mentor.FillAsync(Field("annotate-from"), "5000");
        await mentor.FillAsync(Field("annotate-to"), "6000");
        await mentor.FillAsync(Field("annotate-comment"), "Out of range");
        await mentor.ClickAsync("[data-testid=annotate-add]");
        await mentor.WaitForSelectorAsync("text=outside the run's steps");
        Assert.Equal(1, await viewer.Locator("[data-testid=annotation]").CountAsync());
    }

    [Fact]
    public async Task A_live_chart_that_outgrew_its_point_budget_shows_the_same_points_as_a_reload()
    {
        var runId = await CurveTestData.CreateRunAsync(_app);
        var projectId = await _app.WithDbAsync(db => db.Runs.Where(r => r.Id == runId).Select(r => r.ProjectId).FirstAsync());
        var loss = CurveTestData.Curve("train/loss", 0, 9_000, seed: 3);
        loss[7_777] = loss[7_777] with { Value = 50.0 };
        loss[4_100] = loss[4_100] with { Value = double.NaN };
        await CurveTestData.WritePointsAsync(_app, runId, loss[..1_500]);

        var page = await _browser.SignInAsync(_app.ServerAddress, "mentor3");
        await page.GotoAsync($"projects/{projectId}/compare?runs={runId}");
        await page.WaitForSelectorAsync($"{Chart("train/loss")}[data-ready=true][data-last-step=\"1499\"]");
        // Live batches take the series past 2,000 points: the browser has to switch to buckets, then coarser ones.
        for (var from = 1_500; from < loss.Count; from += 750)
            await CurveTestData.WritePointsAsync(_app, runId, loss[from..Math.Min(loss.Count, from + 750)]);
        await page.WaitForSelectorAsync($"{Chart("train/loss")}[data-last-step=\"8999\"]");

        var live = await page.EvaluateAsync<string>($"async () => JSON.stringify((await import('{CurvesModule}')).snapshot('train/loss', {runId}))");
        var reloaded = await page.EvaluateAsync<string>($$"""
            async () => {
              const d = (await (await fetch('/api/curves/series?run={{runId}}&metric=train/loss')).json())[0];
              return JSON.stringify({ level: d.level, count: d.count, steps: d.steps, values: d.values });
            }
            """);
        Assert.Equal(reloaded, live);
        Assert.Contains("50", live);
        Assert.Contains("4100", live);

        // Zoomed in on 200 steps, the chart fetches that range at full resolution.
        Assert.True(await page.EvaluateAsync<bool>($"async () => (await import('{CurvesModule}')).zoom('train/loss', 7700, 7899)"));
        await page.WaitForSelectorAsync($"{Chart("train/loss")}[data-zoom-level=\"0\"]");
        // A review can take the zoomed range as its steps.
        await page.ClickAsync("[data-testid=annotate-use-zoom]");
        await page.WaitForFunctionAsync($"() => document.querySelector('{Field("annotate-from")}').value === '7700'");
        Assert.Equal("7899", await page.InputValueAsync(Field("annotate-to")));
    }

    [Fact]
    public async Task A_compare_page_for_a_run_that_does_not_exist_says_so()
    {
        var page = await _browser.SignInAsync(_app.ServerAddress, "mentor1");
        var projectId = await _app.WithDbAsync(db => db.Projects.Where(p => p.Name == "YOLOv4").Select(p => p.Id).FirstAsync());
        await page.GotoAsync($"projects/{projectId}/compare?runs=424242");
        await page.WaitForSelectorAsync("[data-testid=compare-error] >> text=There is no run 424242");
    }
}

internal static class MudSelectExtensions
{
    /// <summary>Opens a MudSelect and picks the item with the given text.</summary>
    public static async Task SelectOptionOrClickAsync(this IPage page, string select, string text)
    {
        await page.ClickAsync($"{select} .mud-select-input, {select} .mud-input-slot, {select}");
        await page.ClickAsync($".mud-popover-open .mud-list-item >> text=\"{text}\"");
        await page.WaitForSelectorAsync(".mud-popover-open", new PageWaitForSelectorOptions { State = WaitForSelectorState.Detached });
    }
}
