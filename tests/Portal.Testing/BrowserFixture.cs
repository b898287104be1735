using Microsoft.Playwright;
using Xunit;

namespace Portal.Testing;

/// <summary>
/// One headless Debian Chromium for a test class or collection, driven by Playwright (which ships its own driver and
/// downloads nothing). The flags keep Chromium from calling out of this closed network.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    private IPlaywright? _playwright;
    public IBrowser Browser { get; private set; } = default!;

    public async Task InitializeAsync()
    {
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Environment.GetEnvironmentVariable("PORTAL_CHROMIUM") ?? "/usr/bin/chromium",
            Headless = true,
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
            ],
        });
    }

    /// <summary>A fresh browser context (its own cookies) signed in as a demo user, on the projects page.</summary>
    public async Task<IPage> SignInAsync(Uri server, string userName, string password = SignedInClient.DemoPassword)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = server.ToString(), ViewportSize = new ViewportSize { Width = 1400, Height = 900 } });
        context.SetDefaultTimeout(15_000);
        var page = await context.NewPageAsync();
        await page.GotoAsync("account/login");
        await page.FillAsync("#username", userName);
        await page.FillAsync("#password", password);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForSelectorAsync("[data-testid=signed-in-as]");
        await WaitForCircuitAsync(page);
        return page;
    }

    /// <summary>Waits until the Blazor circuit is connected, so that clicks reach the server.</summary>
    public static Task WaitForCircuitAsync(IPage page) =>
        page.WaitForFunctionAsync("() => window.Blazor !== undefined && document.querySelector('.mud-layout') !== null && window.portalCircuitUp === true");

    /// <summary>
    /// Waits for a snackbar with <paramref name="text"/>. When none comes, the failure says what the page showed
    /// instead (other snackbars, form errors, whether the circuit was up and <paramref name="clicked"/> still shown),
    /// which a bare timeout does not. Snackbars that came and closed before the timeout are not listed.
    /// </summary>
    public static async Task WaitForSnackbarAsync(IPage page, string text, string? clicked = null)
    {
        try
        {
            await page.WaitForSelectorAsync($".mud-snackbar >> text={text}");
        }
        catch (TimeoutException e)
        {
            var snackbars = await page.Locator(".mud-snackbar").AllInnerTextsAsync();
            var formErrors = await page.Locator("[data-testid=form-error]").AllInnerTextsAsync();
            var circuitUp = await page.EvaluateAsync<bool>("() => window.portalCircuitUp === true");
            var stillShown = clicked is null ? "" : $"; {clicked} still shown: {await page.Locator(clicked).CountAsync() > 0}";
            throw new TimeoutException(
                $"No snackbar \"{text}\" on {page.Url}. Snackbars: [{string.Join(" | ", snackbars)}]; form errors: " +
                $"[{string.Join(" | ", formErrors)}]; circuit up: {circuitUp}{stillShown}.", e);
        }
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
    }
}
