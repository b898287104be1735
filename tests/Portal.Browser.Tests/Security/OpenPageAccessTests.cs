using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Portal.Testing;
using Portal.Web.Features.Account;
using Portal.Web.Features.Admin;
using Portal.Web.Infrastructure;

namespace Portal.Browser.Tests.Security;

public sealed class OpenPageAccessTests : IClassFixture<PortalAppFactory>, IClassFixture<BrowserFixture>
{
    private readonly PortalAppFactory _app;
    private readonly BrowserFixture _browser;

    /// <summary>
    /// Waits until the page shows the sign-in form's address. The page is told at once; the wait is generous because
    /// a loaded machine can take seconds to deliver the circuit's redirect, and the server's periodic revalidation
    /// (15 s) is the backstop. It watches the address rather than waiting for a navigation event: the redirect often
    /// lands while the test is still returning from the change that caused it, and a navigation-event wait that
    /// starts in that moment missed it (the page sat on the sign-in form while the wait ran out).
    /// </summary>
    private static Task WaitForSignInFormAsync(IPage page) =>
        Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/account/login"), new() { Timeout = 45_000 });

    public OpenPageAccessTests(PortalAppFactory app, BrowserFixture browser) => (_app, _browser) = (app, browser);

    private async Task<Actor> ActorAsync(IServiceScope scope, string userName)
    {
        var signIn = scope.ServiceProvider.GetRequiredService<SignInManager<PortalUser>>();
        return Actor.From(await signIn.CreateUserPrincipalAsync((await signIn.UserManager.FindByNameAsync(userName))!));
    }

    /// <summary>Collects the console's CSP violation reports of a page.</summary>
    private static List<string> WatchPolicyViolations(IPage page)
    {
        var violations = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase)) lock (violations) violations.Add(message.Text);
        };
        return violations;
    }

    [Fact]
    public async Task An_open_admin_page_is_sent_to_the_sign_in_form_within_seconds_of_its_users_deactivation()
    {
        _ = _app.ServerAddress;
        using var scope = _app.Services.CreateScope();
        var admin = scope.ServiceProvider.GetRequiredService<UserAdministration>();
        var techLead = await ActorAsync(scope, "techlead");
        var leadData = await _app.WithDbAsync(db => db.Users.Where(u => u.UserName == "lead.data").Select(u => u.Id).SingleAsync());
        await admin.SetRolesAsync(techLead, leadData, [Roles.Lead, Roles.Admin]);

        var page = await _browser.SignInAsync(_app.ServerAddress, "lead.data");
        var violations = WatchPolicyViolations(page);
        await page.GotoAsync("admin/users");
        await BrowserFixture.WaitForCircuitAsync(page);
        await page.WaitForSelectorAsync("[data-testid=users]");

        await admin.SetRolesAsync(techLead, leadData, [Roles.Lead]);
        await admin.SetActiveAsync(techLead, leadData, false);

        await WaitForSignInFormAsync(page);
        Assert.Empty(await page.QuerySelectorAllAsync("[data-testid=users]"));
        Assert.Empty(violations);
    }

    [Fact]
    public async Task A_role_taken_away_closes_the_open_page_that_needed_it()
    {
        _ = _app.ServerAddress;
        using var scope = _app.Services.CreateScope();
        var admin = scope.ServiceProvider.GetRequiredService<UserAdministration>();
        var techLead = await ActorAsync(scope, "techlead");
        var leadLoss = await _app.WithDbAsync(db => db.Users.Where(u => u.UserName == "lead.loss").Select(u => u.Id).SingleAsync());
        await admin.SetRolesAsync(techLead, leadLoss, [Roles.Lead, Roles.Admin]);

        var page = await _browser.SignInAsync(_app.ServerAddress, "lead.loss");
        await page.GotoAsync("admin/users");
        await BrowserFixture.WaitForCircuitAsync(page);
        await page.WaitForSelectorAsync("[data-testid=users]");

        await admin.SetRolesAsync(techLead, leadLoss, [Roles.Lead]);

        await WaitForSignInFormAsync(page);
    }

    [Fact]
    public async Task Signing_out_in_one_tab_sends_the_users_other_open_page_to_the_sign_in_form_within_seconds()
    {
        var page = await _browser.SignInAsync(_app.ServerAddress, "member5");
        var other = await page.Context.NewPageAsync();
        await other.GotoAsync("inbox");
        await BrowserFixture.WaitForCircuitAsync(other);
        await other.WaitForSelectorAsync("[data-testid=signed-in-as]");

        await page.ClickAsync("form[action='account/logout'] button[type=submit]");
        await page.WaitForURLAsync("**/account/login**");

        // The other tab's circuit is not asked by any request of its own: the sign-out itself ends it.
        await WaitForSignInFormAsync(other);
        Assert.Empty(await other.QuerySelectorAllAsync("[data-testid=signed-in-as]"));
    }

    [Fact]
    public async Task The_portals_pages_work_under_its_script_policy_without_a_single_violation()
    {
        var page = await _browser.SignInAsync(_app.ServerAddress, "lead.modeling");
        var violations = WatchPolicyViolations(page);
        var project = await _app.WithDbAsync(db => db.Projects.Where(p => p.Name == "Shapes detector (synthetic)").Select(p => p.Id).SingleAsync());
        var run = await _app.WithDbAsync(db => db.Runs.OrderBy(r => r.Id).Select(r => r.Id).FirstAsync());

        foreach (var path in new[] { "/", $"projects/{project}/board", $"projects/{project}/runs", $"projects/{project}/releases", "inbox", $"runs/{run}" })
        {
            await page.GotoAsync(path);
            await BrowserFixture.WaitForCircuitAsync(page);
        }
        await page.GotoAsync($"projects/{project}/board");
        await BrowserFixture.WaitForCircuitAsync(page);
        await page.WaitForSelectorAsync("[data-testid=signed-in-as]");

        Assert.Empty(violations);
        Assert.Equal(0, await page.EvaluateAsync<int>("() => document.querySelectorAll('script:not([src])').length"));
    }
}
