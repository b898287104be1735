using Microsoft.EntityFrameworkCore;
using Portal.Testing;

namespace Portal.Browser.Tests.Runs;

/// <summary>In Chromium, on the demo data: from a differential run to its per-layer comparison, with the divergence highlighted.</summary>
[Collection(ReadOnlyDemo.Name)]
public sealed class DifferentialJourneyTests(PortalAppFactory app, BrowserFixture browser)
{
    [Fact]
    public async Task A_member_follows_a_differential_run_to_its_first_diverging_layer_and_the_fixed_run_that_passes()
    {
        var server = app.ServerAddress;
        var runs = await app.WithDbAsync(db => db.Runs.Where(r => r.Recipe == "differential").OrderBy(r => r.Id).Select(r => r.Id).ToListAsync());
        var page = await browser.SignInAsync(server, "member4");

        await page.GotoAsync($"runs/{runs[0]}");
        await BrowserFixture.WaitForCircuitAsync(page);
        await page.ClickAsync("[data-testid=differential-link]");
        await page.WaitForSelectorAsync("[data-testid=first-diverging]");

        Assert.Equal("backbone.stem0.bn", await page.InnerTextAsync("[data-testid=first-diverging]"));
        Assert.Contains("Batch-norm epsilon", await page.InnerTextAsync("[data-testid=likely-cause]"));
        Assert.Contains("backbone.stem0.bn", await page.InnerTextAsync("[data-testid=first-diverging-row]"));
        Assert.True(await page.Locator("[data-testid=layer-row]").CountAsync() > 100);
        Assert.True(await page.Locator(".mud-chart svg, svg.mud-chart-line, .mud-chart").CountAsync() > 0);

        await page.GotoAsync($"runs/{runs[1]}/differential");
        await page.WaitForSelectorAsync("[data-testid=differential-verdict] >> text=/All 178 tensors within tolerance/");
        Assert.Equal(0, await page.Locator("[data-testid=first-diverging-row]").CountAsync());
    }
}
