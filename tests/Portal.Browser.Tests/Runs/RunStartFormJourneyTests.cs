using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using Portal.Testing;

namespace Portal.Browser.Tests.Runs;

/// <summary>The run-start form says what is wrong with its input on the field it concerns, in a user's words.</summary>
[Collection(ReadOnlyDemo.Name)]
public sealed class RunStartFormJourneyTests(PortalAppFactory app, BrowserFixture browser)
{
    [Fact]
    public async Task A_config_with_a_missing_comma_is_refused_on_the_config_field_naming_the_line()
    {
        _ = app.ServerAddress;
        var project = await app.WithDbAsync(db => db.Projects.Where(p => p.Name == "YOLOv4").Select(p => p.Id).SingleAsync());
        var runsBefore = await app.WithDbAsync(db => db.Runs.CountAsync());
        var page = await browser.SignInAsync(app.ServerAddress, "member1");
        await page.GotoAsync($"projects/{project}/runs");
        await BrowserFixture.WaitForCircuitAsync(page);

        await page.FillAsync("[data-testid=config]", "{\n  \"steps\": 10\n  \"seed\": 3\n}");
        await page.ClickAsync("[data-testid=start-run]");

        var error = page.Locator(".mud-input-control:has([data-testid=config]) .mud-input-helper-text");
        await error.Locator("text=The config is not valid JSON").WaitForAsync();
        Assert.Equal("The config is not valid JSON: line 2, a comma is missing at the end of the line.", (await error.InnerTextAsync()).Trim());
        Assert.Equal("true", await page.GetAttributeAsync("[data-testid=config]", "aria-invalid"));
        Assert.Equal(0, await page.Locator(".mud-snackbar").CountAsync());
        Assert.Equal(runsBefore, await app.WithDbAsync(db => db.Runs.CountAsync()));
    }
}
