using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using Portal.Web.Features.Account;
using Portal.Web.Features.Agents;
using Portal.Web.Features.Api;
using Portal.Web.Infrastructure;
using Portal.Web.Tests.Testing;

namespace Portal.Web.Tests.Api;

/// <summary>Users create, list and revoke their own API tokens; the account page shows a new secret once.</summary>
public sealed class PersonalTokenTests : PortalComponentTest<PortalTestHost>
{
    protected override Task<PortalTestHost> StartHostAsync() => Task.FromResult(new PortalTestHost());

    [Fact]
    public async Task A_token_is_stored_only_as_its_hash_with_its_scopes_and_expiry()
    {
        var member = await Db.AddUserAsync("tok.member", [Roles.Member]);
        var created = await Db.Get<PersonalTokenService>().CreateAsync(member, "  nightly CI  ", ApiScopes.Read | ApiScopes.Runs, 30);

        var stored = await Db.QueryAsync(db => db.PersonalAccessTokens.SingleAsync(t => t.Id == created.Id));
        Assert.Equal("nightly CI", stored.Name);
        Assert.Equal(AgentAuth.Hash(created.Secret), stored.TokenHash);
        Assert.DoesNotContain(created.Secret, stored.TokenHash + stored.Prefix + stored.Name);
        Assert.StartsWith(stored.Prefix, created.Secret);
        Assert.Equal(ApiScopes.Read | ApiScopes.Runs, stored.Scopes);
        Assert.Equal(30, Math.Round((stored.ExpiresAt - stored.CreatedAt).TotalDays));
    }

    [Theory]
    [InlineData("", ApiScopes.Read, 30, "Give the token a name")]
    [InlineData("ci", ApiScopes.None, 30, "Choose at least one scope")]
    [InlineData("ci", (ApiScopes)64, 30, "read, runs, tasks and releases")]
    [InlineData("ci", ApiScopes.Read, 0, "expires after 1 to 366 days")]
    [InlineData("ci", ApiScopes.Read, 367, "expires after 1 to 366 days")]
    public async Task A_token_without_a_name_scope_or_sensible_expiry_is_refused_and_nothing_is_stored(string name, ApiScopes scopes, int days, string message)
    {
        var member = await Db.AddUserAsync("tok.bad", [Roles.Member]);
        var error = await Assert.ThrowsAsync<PortalError>(() => Db.Get<PersonalTokenService>().CreateAsync(member, name, scopes, days));
        Assert.Contains(message, error.Message);
        Assert.Equal(0, await Db.QueryAsync(db => db.PersonalAccessTokens.CountAsync()));
    }

    [Fact]
    public async Task Nobody_sees_or_revokes_another_users_token()
    {
        var owner = await Db.AddUserAsync("tok.owner", [Roles.Member]);
        var admin = await Db.AddUserAsync("tok.admin", [Roles.Admin, Roles.Lead]);
        var tokens = Db.Get<PersonalTokenService>();
        var created = await tokens.CreateAsync(owner, "mine", ApiScopes.Read, 10);

        Assert.Empty(await tokens.ListAsync(admin));
        var error = await Assert.ThrowsAsync<PortalError>(() => tokens.RevokeAsync(admin, created.Id));
        Assert.Equal(PortalErrorKind.NotFound, error.Kind);
        Assert.Null(await Db.QueryAsync(db => db.PersonalAccessTokens.Where(t => t.Id == created.Id).Select(t => t.RevokedAt).SingleAsync()));

        await tokens.RevokeAsync(owner, created.Id);
        Assert.NotNull(Assert.Single(await tokens.ListAsync(owner)).RevokedAt);
        Assert.Contains("already revoked", (await Assert.ThrowsAsync<PortalError>(() => tokens.RevokeAsync(owner, created.Id))).Message);
    }

    [Fact]
    public async Task The_account_page_shows_a_new_token_once_and_revokes_it()
    {
        var member = ActAs(await Db.AddUserAsync("tok.page", [Roles.Member]));
        Render<MudPopoverProvider>();
        var page = Render<AccountPage>();
        await page.InvokeAsync(() => page.Find("input[data-testid=pat-name]").Change("laptop script")); // found and used in one dispatch: the page re-renders when its list loads
        await page.InvokeAsync(() => page.Find("button[data-testid=create-pat]").Click());

        page.WaitForAssertion(() => Assert.StartsWith(PersonalTokenService.SecretPrefix, page.Find("[data-testid=new-pat]").TextContent));
        var secret = page.Find("[data-testid=new-pat]").TextContent;
        var stored = await Db.QueryAsync(db => db.PersonalAccessTokens.SingleAsync(t => t.UserId == member.UserId));
        Assert.Equal(AgentAuth.Hash(secret), stored.TokenHash);
        Assert.Equal(ApiScopes.Read, stored.Scopes);
        Assert.Contains("laptop script", page.Find("[data-testid=pats]").TextContent);

        await page.InvokeAsync(() => page.Find($"button[data-testid=revoke-pat-{stored.Id}]").Click());
        page.WaitForAssertion(() => Assert.Contains("revoked", page.Find("[data-testid=pats]").TextContent));
        Assert.NotNull(await Db.QueryAsync(db => db.PersonalAccessTokens.Where(t => t.Id == stored.Id).Select(t => t.RevokedAt).SingleAsync()));
    }

    [Fact]
    public async Task A_token_without_a_name_is_refused_inside_the_form_not_in_a_snackbar()
    {
        ActAs(await Db.AddUserAsync("tok.noname", [Roles.Member]));
        Render<MudPopoverProvider>();
        var page = Render<AccountPage>();
        await page.InvokeAsync(() => page.Find("button[data-testid=create-pat]").Click());

        page.WaitForAssertion(() => Assert.StartsWith("Give the token a name", page.Find("[data-testid=form-error]").TextContent.Trim()));
        Assert.Empty(Services.GetRequiredService<ISnackbar>().ShownSnackbars);
        Assert.Empty(page.FindAll("[data-testid=new-pat]"));
    }

    [Fact]
    public async Task An_agent_token_without_a_name_is_refused_inside_the_form_not_in_a_snackbar()
    {
        ActAs(await Db.AddUserAsync("tok.agentadmin", [Roles.Admin]));
        Render<MudPopoverProvider>();
        var page = Render<AgentTokensPage>();
        await page.InvokeAsync(() => page.Find("button[data-testid=create-token]").Click());

        page.WaitForAssertion(() => Assert.StartsWith("Give the token a name", page.Find("[data-testid=form-error]").TextContent.Trim()));
        Assert.Empty(Services.GetRequiredService<ISnackbar>().ShownSnackbars);
    }
}
