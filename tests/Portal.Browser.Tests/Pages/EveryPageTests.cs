using Microsoft.Playwright;
using Portal.Testing;

namespace Portal.Browser.Tests.Pages;

/// <summary>
/// Every page of the portal (<see cref="PortalPages"/>), opened in Chromium as the technical lead (who may see every
/// page): no page scrolls sideways on a 390 px phone.
/// </summary>
[Collection(ReadOnlyDemo.Name)]
public sealed class EveryPageTests(PortalAppFactory app, BrowserFixture browser)
{
    [Fact]
    public async Task No_page_scrolls_sideways_on_a_390_pixel_phone()
    {
        var addresses = await PortalPages.AddressesAsync(app);
        Assert.True(addresses.Count >= 20, $"only {addresses.Count} pages found");
        var page = await browser.SignInAsync(app.ServerAddress, "techlead");
        await page.SetViewportSizeAsync(390, 844);
        var wide = new List<string>();
        foreach (var address in addresses)
        {
            await PortalPages.OpenAsync(page, address);
            var size = await page.EvaluateAsync<int[]>("() => [document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]");
            if (size[0] > size[1]) wide.Add($"{address}: {size[0]} px wide in {size[1]}{await WidestAsync(page)}");
        }
        Assert.True(wide.Count == 0, string.Join("\n", wide));
        // Signing out stays in reach on the phone.
        Assert.True(await page.Locator("button:has-text('Sign out')").IsVisibleAsync());
    }

    /// <summary>The element that sticks out furthest to the right, to say what to fix.</summary>
    private static async Task<string> WidestAsync(IPage page) => await page.EvaluateAsync<string>("""
        () => {
          let worst = null, right = document.scrollingElement.clientWidth;
          for (const e of document.querySelectorAll('body *')) {
            const r = e.getBoundingClientRect().right;
            if (r > right + 1 && (!worst || r > worst.r)) worst = { r, e };
          }
          return worst ? ` (widest: <${worst.e.tagName.toLowerCase()} class="${worst.e.className}"> to ${Math.round(worst.r)} px)` : '';
        }
        """);

    [Fact]
    public async Task An_unknown_address_shows_the_not_found_page_with_a_way_back()
    {
        var page = await browser.SignInAsync(app.ServerAddress, "member1");
        var response = await page.GotoAsync("no/such/page");
        Assert.Equal(404, response!.Status);
        await page.WaitForSelectorAsync("[data-testid=not-found] >> text=There is nothing at this address");
        Assert.NotNull(await page.QuerySelectorAsync("[data-testid=not-found] a[href='my-tasks']"));
    }

    [Fact]
    public async Task The_theme_follows_the_system_until_the_user_chooses_and_the_choice_is_kept()
    {
        var server = app.ServerAddress;
        var page = await browser.SignInAsync(server, "member1");
        await page.EmulateMediaAsync(new() { ColorScheme = ColorScheme.Dark });
        await page.ReloadAsync();
        await BrowserFixture.WaitForCircuitAsync(page);
        await page.WaitForFunctionAsync(PortalPages.IsDark);
        Assert.Equal("system", await page.GetAttributeAsync("[data-testid=theme-toggle]", "data-theme"));

        await page.ClickAsync("[data-testid=theme-toggle]"); // system -> light
        await page.WaitForSelectorAsync("[data-testid=theme-toggle][data-theme=light]");
        await BrowserFixture.WaitForCircuitAsync(page);
        await page.WaitForFunctionAsync($"() => !({PortalPages.IsDark})()");

        await page.ClickAsync("[data-testid=theme-toggle]"); // light -> dark, kept across a reload
        await page.WaitForSelectorAsync("[data-testid=theme-toggle][data-theme=dark]");
        await page.EmulateMediaAsync(new() { ColorScheme = ColorScheme.Light });
        await page.ReloadAsync();
        await BrowserFixture.WaitForCircuitAsync(page);
        await page.WaitForFunctionAsync(PortalPages.IsDark);
    }
}
