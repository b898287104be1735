using Deque.AxeCore.Commons;
using Microsoft.Playwright;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using Portal.Testing;

namespace Portal.Browser.Tests.Pages;

/// <summary>
/// axe-core on every page of the portal (<see cref="PortalPages"/>) as the technical lead, who sees the most, plus the
/// sign-in page, in the light and the dark theme: no serious or critical violation. Each page is opened once, checked
/// in the light theme, switched to the dark theme in place (the layout follows the system's scheme live while the user
/// has not chosen one) and checked again, with the rules that can report a serious or critical violation (ADR 0023).
/// A failure lists each violation with the elements it was found on, to say what to fix.
/// </summary>
[Collection(ReadOnlyDemo.Name)]
public sealed class AccessibilityTests(PortalAppFactory app, BrowserFixture browser)
{
    private static readonly string[] Blocking = ["serious", "critical"];

    /// <summary>axe-core itself, loaded into every document of a context before the page's own scripts.</summary>
    private static readonly string AxeSource = new BundledAxeScriptProvider().GetScript();

    [Fact]
    public async Task No_page_has_a_serious_or_critical_accessibility_violation_in_the_light_or_the_dark_theme()
    {
        var addresses = await PortalPages.AddressesAsync(app);
        var found = new List<string>();

        var signInContext = await browser.Browser.NewContextAsync(new() { BaseURL = app.ServerAddress.ToString(), ColorScheme = ColorScheme.Light });
        await signInContext.AddInitScriptAsync(AxeSource);
        var signIn = await signInContext.NewPageAsync();
        await signIn.GotoAsync(PortalPages.SignIn.TrimStart('/'));
        await signIn.WaitForSelectorAsync("#username");
        var options = await BlockingRulesOnlyAsync(signIn);
        // The sign-in page is served statically with one look; it is checked under either scheme all the same.
        found.AddRange(await ViolationsAsync(signIn, PortalPages.SignIn, ColorScheme.Light, options));
        await signIn.EmulateMediaAsync(new() { ColorScheme = ColorScheme.Dark });
        found.AddRange(await ViolationsAsync(signIn, PortalPages.SignIn, ColorScheme.Dark, options));
        // An image without a text alternative (critical) is found with these rules, so the check can fail.
        await signIn.EvaluateAsync("() => document.querySelector('main').append(Object.assign(document.createElement('img'), { src: 'favicon.svg' }))");
        Assert.Contains(await ViolationsAsync(signIn, PortalPages.SignIn, ColorScheme.Dark, options), v => v.Contains("image-alt (critical)"));

        // The theme follows the system's until the user chooses one; the technical lead has not chosen.
        var page = await browser.SignInAsync(app.ServerAddress, "techlead");
        await page.Context.AddInitScriptAsync(AxeSource);
        foreach (var address in addresses)
        {
            await page.EmulateMediaAsync(new() { ColorScheme = ColorScheme.Light });
            await PortalPages.OpenAsync(page, address);
            // The scheme may only change once the layout listens for it, or the change would go unseen.
            await page.WaitForSelectorAsync(".mud-layout[data-system-theme=live]", new() { State = WaitForSelectorState.Attached });
            await page.WaitForFunctionAsync($"() => !({PortalPages.IsDark})()");
            found.AddRange(await ViolationsAsync(page, address, ColorScheme.Light, options));

            await page.EmulateMediaAsync(new() { ColorScheme = ColorScheme.Dark });
            await page.WaitForFunctionAsync(PortalPages.IsDark);
            found.AddRange(await ViolationsAsync(page, address, ColorScheme.Dark, options));
        }
        Assert.True(found.Count == 0, $"{found.Count} serious or critical violations:\n" + string.Join("\n", found));
    }

    /// <summary>
    /// axe-core gives every violation of a rule the rule's own impact (its finalizeRuleResult), so a rule whose impact is
    /// minor or moderate cannot report a serious or critical violation: those rules stay off. Only violations are
    /// collected in full, not passes.
    /// </summary>
    private static async Task<AxeRunOptions> BlockingRulesOnlyAsync(IPage page)
    {
        var minor = await page.EvaluateAsync<string[]>("() => axe._audit.rules.filter(r => r.impact === 'minor' || r.impact === 'moderate').map(r => r.id)");
        return new AxeRunOptions
        {
            Rules = minor.ToDictionary(id => id, _ => new RuleOptions { Enabled = false }),
            ResultTypes = [ResultType.Violations],
        };
    }

    /// <summary>
    /// axe-core run in the page itself. The portal's pages have no frames, so the library's per-frame runs, merged in a
    /// blank page of their own for every check, would only make each check several times slower.
    /// </summary>
    private static async Task<AxeResult> RunAxeAsync(IPage page, AxeRunOptions options) =>
        new(JObject.Parse(await page.EvaluateAsync<string>(
            "async options => JSON.stringify(await axe.run(document, JSON.parse(options)))", JsonConvert.SerializeObject(options))));

    private static async Task<IEnumerable<string>> ViolationsAsync(IPage page, string address, ColorScheme scheme, AxeRunOptions options)
    {
        // Let transitions (drawer, chips fading in, the colours changing) finish, so colours are read at rest; endless
        // ones (progress bars) never do.
        await page.WaitForFunctionAsync("() => document.getAnimations().every(a => a.playState !== 'running' || a.effect?.getComputedTiming().iterations === Infinity)");
        var result = await RunAxeAsync(page, options);
        return result.Violations
            .Where(v => Blocking.Contains(v.Impact))
            .Select(v => $"{address} ({scheme}): {v.Id} ({v.Impact}) {v.Help}\n" + string.Join("\n", v.Nodes.Take(5).Select(n =>
                $"    {n.Target} {Shorten(n.Html)} | {Shorten(string.Join("; ", n.Any.Concat(n.All).Concat(n.None).Select(c => c.Message)))}"))
                + (v.Nodes.Count() > 5 ? $"\n    ... and {v.Nodes.Count() - 5} more" : ""));
    }

    private static string Shorten(string text) => text.Length <= 200 ? text : text[..200] + "…";
}
