using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using Portal.Testing;

namespace Portal.Browser.Tests.Pages;

/// <summary>The analysis page's tabs in Chromium: the address names the open tab, opens it when loaded, and back and forward move between tabs.</summary>
[Collection(ReadOnlyDemo.Name)]
public sealed class TabAddressJourneyTests(PortalAppFactory app, BrowserFixture browser)
{
    [Fact]
    public async Task A_tab_address_opens_that_tab_and_choosing_a_tab_puts_it_in_the_address()
    {
        var projectId = await app.WithDbAsync(db => db.Projects.Where(p => p.Name == "YOLOv4").Select(p => p.Id).SingleAsync());
        var page = await browser.SignInAsync(app.ServerAddress, "member8");

        await page.GotoAsync($"projects/{projectId}/analysis?tab=questions");
        await BrowserFixture.WaitForCircuitAsync(page);
        await page.WaitForSelectorAsync("[data-testid=author-questions]");
        Assert.Equal("Questions to the authors", (await page.TextContentAsync("[data-testid=analysis-tabs] .mud-tab-active"))!.Trim());
        Assert.Empty(await page.QuerySelectorAllAsync("[data-testid=checklist-progress]"));

        await page.ClickAsync("[data-testid=analysis-tabs] .mud-tab >> text=Discrepancies");
        await page.WaitForSelectorAsync("[data-testid=discrepancies]");
        await page.WaitForURLAsync(url => url.EndsWith($"projects/{projectId}/analysis?tab=discrepancies"));

        // The first tab is the page's default: its address has no tab.
        await page.ClickAsync("[data-testid=analysis-tabs] .mud-tab >> text=Checklists");
        await page.WaitForSelectorAsync("[data-testid=checklist-progress]");
        await page.WaitForURLAsync(url => url.EndsWith($"projects/{projectId}/analysis"));

        await page.GoBackAsync();
        await page.WaitForSelectorAsync("[data-testid=discrepancies]");
        await page.GoBackAsync();
        await page.WaitForSelectorAsync("[data-testid=author-questions]");
        await page.GoForwardAsync();
        await page.WaitForSelectorAsync("[data-testid=discrepancies]");
        Assert.Equal("Discrepancies", (await page.TextContentAsync("[data-testid=analysis-tabs] .mud-tab-active"))!.Trim());
    }

    [Fact]
    public async Task An_unknown_tab_in_the_address_opens_the_first_tab()
    {
        var projectId = await app.WithDbAsync(db => db.Projects.Where(p => p.Name == "YOLOv4").Select(p => p.Id).SingleAsync());
        var page = await browser.SignInAsync(app.ServerAddress, "member8");

        await page.GotoAsync($"projects/{projectId}/analysis?tab=nothing-here");
        await BrowserFixture.WaitForCircuitAsync(page);

        await page.WaitForSelectorAsync("[data-testid=checklist-progress]");
        Assert.Equal("Checklists", (await page.TextContentAsync("[data-testid=analysis-tabs] .mud-tab-active"))!.Trim());
    }
}
