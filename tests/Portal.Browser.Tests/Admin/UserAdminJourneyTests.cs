using Microsoft.Playwright;
using Portal.Testing;

namespace Portal.Browser.Tests.Admin;

public sealed class UserAdminJourneyTests : IClassFixture<PortalAppFactory>, IClassFixture<BrowserFixture>
{
    private readonly PortalAppFactory _app;
    private readonly BrowserFixture _browser;

    public UserAdminJourneyTests(PortalAppFactory app, BrowserFixture browser) => (_app, _browser) = (app, browser);

    [Fact]
    public async Task An_admin_creates_a_member_who_can_sign_in_until_the_admin_deactivates_them()
    {
        var admin = await _browser.SignInAsync(_app.ServerAddress, "techlead");
        await admin.GotoAsync("admin/users");
        await BrowserFixture.WaitForCircuitAsync(admin);
        await admin.ClickAsync("[data-testid=user-new-panel] >> text=New user");
        await admin.FillAsync("[data-testid=user-new-name]", "member19");
        await admin.FillAsync("[data-testid=user-new-display]", "Sam Ito");
        await admin.FillAsync("[data-testid=user-new-password]", "Welcome!2026");
        await admin.ClickAsync("[data-testid=user-create]");
        await admin.WaitForSelectorAsync("tr[data-user=member19]");

        var newcomer = await _browser.SignInAsync(_app.ServerAddress, "member19", "Welcome!2026");
        Assert.Equal("Sam Ito", (await newcomer.InnerTextAsync("[data-testid=signed-in-as]")).Trim());

        // MudBlazor leaves out a snackbar whose message is already on screen: the creation's "Saved." has to go first,
        // or the deactivation's would be dropped and the creation's could vanish while this waits for it.
        await admin.WaitForSelectorAsync(".mud-snackbar >> text=Saved.", new() { State = WaitForSelectorState.Detached, Timeout = 30_000 });
        await admin.ClickAsync("tr[data-user=member19] [data-testid=user-active]");
        await BrowserFixture.WaitForSnackbarAsync(admin, "Saved.");

        var again = await _browser.Browser.NewPageAsync(new BrowserNewPageOptions { BaseURL = _app.ServerAddress.ToString() });
        await again.GotoAsync("account/login");
        await again.FillAsync("#username", "member19");
        await again.FillAsync("#password", "Welcome!2026");
        await again.ClickAsync("button[type=submit]");
        Assert.Contains("deactivated", await again.InnerTextAsync("[data-testid=login-error]"));
    }

    [Fact]
    public async Task A_new_user_without_a_user_name_is_refused_on_the_user_name_field_not_in_a_snackbar()
    {
        var admin = await _browser.SignInAsync(_app.ServerAddress, "techlead");
        await admin.GotoAsync("admin/users");
        await BrowserFixture.WaitForCircuitAsync(admin);
        await admin.ClickAsync("[data-testid=user-new-panel] >> text=New user");
        await admin.FillAsync("[data-testid=user-new-display]", "No Name");
        await admin.ClickAsync("[data-testid=user-create]");

        var field = admin.Locator(".mud-input-control:has([data-testid=user-new-name])");
        await field.Locator(".mud-input-helper-text >> text=A user needs a user name.").WaitForAsync();
        Assert.Equal("true", await admin.GetAttributeAsync("[data-testid=user-new-name]", "aria-invalid"));
        Assert.Equal(0, await admin.Locator(".mud-snackbar >> text=A user needs a user name.").CountAsync());
        // What the admin typed stays, to be completed rather than typed again.
        Assert.Equal("No Name", await admin.InputValueAsync("[data-testid=user-new-display]"));

        // Typing a name takes the error away.
        await admin.FillAsync("[data-testid=user-new-name]", "noname1");
        await admin.Locator("[data-testid=user-new-display]").FocusAsync();
        await field.Locator(".mud-input-helper-text >> text=A user needs a user name.").WaitForAsync(new() { State = WaitForSelectorState.Detached });
    }

    [Fact]
    public async Task A_member_who_opens_the_users_page_is_not_shown_it()
    {
        var member = await _browser.SignInAsync(_app.ServerAddress, "member8");
        await member.GotoAsync("admin/users");
        await member.WaitForLoadStateAsync(LoadState.NetworkIdle);
        Assert.Empty(await member.QuerySelectorAllAsync("[data-testid=users]"));
    }
}
