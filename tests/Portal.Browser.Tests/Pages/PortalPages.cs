using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using Portal.Testing;

namespace Portal.Browser.Tests.Pages;

/// <summary>
/// Every page of the portal, found from the @page routes in the assembly and filled with the demo's ids, so that a
/// new page is checked by every test that walks them without being listed anywhere.
/// </summary>
public static partial class PortalPages
{
    /// <summary>The sign-in page: open to everyone, so it is not among the signed-in addresses.</summary>
    public const string SignIn = "/account/login";

    public static async Task<IReadOnlyList<string>> AddressesAsync(PortalAppFactory app)
    {
        _ = app.ServerAddress;
        var ids = await app.WithDbAsync(async db =>
        {
            var project = await db.Projects.Where(p => p.Name == "YOLOv4").Select(p => p.Id).SingleAsync();
            return new Dictionary<string, long>
            {
                ["ProjectId"] = project,
                ["DocumentId"] = await db.DesignDocuments.Where(d => d.ProjectId == project).OrderBy(d => d.Id).Select(d => d.Id).FirstAsync(),
                ["ReleaseId"] = await db.Releases.OrderBy(r => r.Id).Select(r => r.Id).FirstAsync(),
                ["RunId"] = await db.Runs.Where(r => r.Recipe == "differential").OrderBy(r => r.Id).Select(r => r.Id).FirstAsync(),
            };
        });
        var routes = typeof(Program).Assembly.GetTypes()
            .SelectMany(t => t.GetCustomAttributes<RouteAttribute>())
            .Select(r => r.Template)
            .Where(t => t != SignIn)
            .Distinct().Order(StringComparer.Ordinal).ToList();
        return routes.Select(t => Parameter().Replace(t, m => ids.TryGetValue(m.Groups[1].Value, out var id)
            ? id.ToString(System.Globalization.CultureInfo.InvariantCulture)
            : throw new InvalidOperationException($"No demo id for {m.Value} in {t}"))).ToList();
    }

    /// <summary>Opens a page and waits until its own content has rendered.</summary>
    public static async Task<IPage> OpenAsync(IPage page, string address)
    {
        await page.GotoAsync(address.TrimStart('/'));
        await BrowserFixture.WaitForCircuitAsync(page);
        // The page's own content has rendered once a heading or an alert is in the main area.
        try { await page.Locator(".mud-main-content :is(h1, h2, h3, h4, h5, h6, .mud-alert)").First.WaitForAsync(); }
        catch (TimeoutException e) { throw new InvalidOperationException($"{address} showed no heading", e); }
        return page;
    }

    /// <summary>A script that is true when the page background is dark: its colour channels together stay under half of white.</summary>
    public const string IsDark = "() => { const c = getComputedStyle(document.body).backgroundColor.match(/\\d+/g).map(Number); return c[0] + c[1] + c[2] < 384; }";

    [GeneratedRegex(@"\{(\w+)(:\w+)?\}")]
    private static partial Regex Parameter();
}
