using Portal.Testing;

namespace Portal.Browser.Tests.Account;

[Collection(ReadOnlyDemo.Name)]
public sealed class SignInJourneyTests
{
    private readonly PortalAppFactory _app;
    private readonly BrowserFixture _browser;

    public SignInJourneyTests(PortalAppFactory app, BrowserFixture browser) => (_app, _browser) = (app, browser);

    [Fact]
    public async Task A_member_signs_in_in_chromium_and_opens_a_project()
    {
        var page = await _browser.SignInAsync(_app.ServerAddress, "member3");
        await page.ClickAsync("text=YOLOv4-tiny");
        await page.WaitForSelectorAsync("[data-testid=claims] >> text=42.0");
        Assert.Contains("Evaluation", await page.InnerTextAsync("[data-testid=project-stage]"));
    }
}
