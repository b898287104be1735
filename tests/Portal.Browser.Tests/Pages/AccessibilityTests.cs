using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using Portal.Testing;

namespace Portal.Browser.Tests.Pages;

/// <summary>
/// axe-core on every page of the portal (<see cref="PortalPages"/>) as the technical lead, who sees the most, plus the
/// sign-in page, in the light and the dark theme: no serious or critical violation. A failure lists each one with
/// the elements it was found on, to say what to fix.
/// </summary>
[Collection(ReadOnlyDemo.Name)]
public sealed class AccessibilityTests(PortalAppFactory app, BrowserFixture browser)
{
    private static readonly string[] Blocking = ["serious", "critical"];

    [Theory]
    [InlineData(ColorScheme.Light)]
    [InlineData(ColorScheme.Dark)]
    public async Task No_page_has_a_serious_or_critical_accessibility_violation(ColorScheme scheme)
    {
        var addresses = await PortalPages.AddressesAsync(app);
        var found = new List<string>();

        var signIn = await (await browser.Browser.NewContextAsync(new() { BaseURL = app.ServerAddress.ToString(), ColorScheme = scheme })).NewPageAsync();
        await signIn.GotoAsync(PortalPages.SignIn.TrimStart('/'));
        await signIn.WaitForSelectorAsync("#username");
        found.AddRange(await ViolationsAsync(signIn, PortalPages.SignIn));

        var page = await browser.SignInAsync(app.ServerAddress, "techlead");
        // The theme follows the system's until the user chooses one; the technical lead has not chosen.
        await page.EmulateMediaAsync(new() { ColorScheme = scheme });
        foreach (var address in addresses)
        {
            await PortalPages.OpenAsync(page, address);
            found.AddRange(await ViolationsAsync(page, address));
        }
        Assert.True(found.Count == 0, $"{found.Count} serious or critical violations ({scheme} theme):\n" + string.Join("\n", found));
    }

    private static async Task<IEnumerable<string>> ViolationsAsync(IPage page, string address)
    {
        // Let transitions (drawer, chips fading in) finish, so colours are read at rest; endless ones (progress bars) never do.
        await page.WaitForFunctionAsync("() => document.getAnimations().every(a => a.playState !== 'running' || a.effect?.getComputedTiming().iterations === Infinity)");
        var result = await page.RunAxe();
        return result.Violations
            .Where(v => Blocking.Contains(v.Impact))
            .Select(v => $"{address}: {v.Id} ({v.Impact}) {v.Help}\n" + string.Join("\n", v.Nodes.Take(5).Select(n =>
                $"    {n.Target} {Shorten(n.Html)} | {Shorten(string.Join("; ", n.Any.Concat(n.All).Concat(n.None).Select(c => c.Message)))}"))
                + (v.Nodes.Count() > 5 ? $"\n    ... and {v.Nodes.Count() - 5} more" : ""));
    }

    private static string Shorten(string text) => text.Length <= 200 ? text : text[..200] + "…";
}
