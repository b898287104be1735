using System.Net;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Testing;
using Portal.Web.Features.Account;
using Portal.Web.Features.Admin;
using Portal.Web.Infrastructure;

namespace Portal.Web.Tests.Security;

/// <summary>The sign-in cookie, antiforgery, proxies, hub origins and the script policy, against the real server.</summary>
public sealed class SessionTests : IClassFixture<PortalAppFactory>
{
    private const string AuthCookie = ".AspNetCore.Identity.Application";
    private readonly PortalAppFactory _app;
    public SessionTests(PortalAppFactory app) => _app = app;

    private async Task<HttpResponseMessage> PostSignInAsync(HttpClient client, string userName, string password,
        bool? rememberMe = null, Action<HttpRequestMessage>? configure = null)
    {
        var token = await SignedInClient.GetAntiforgeryTokenAsync(client, "account/login");
        var form = new Dictionary<string, string> { ["username"] = userName, ["password"] = password, ["returnUrl"] = "/", ["__RequestVerificationToken"] = token };
        if (rememberMe is true) form["rememberMe"] = "true";
        var request = new HttpRequestMessage(HttpMethod.Post, "account/login") { Content = new FormUrlEncodedContent(form) };
        configure?.Invoke(request);
        return await client.SendAsync(request);
    }

    private static string AuthSetCookie(HttpResponseMessage response) =>
        response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(AuthCookie + "="));

    [Fact]
    public async Task A_sign_out_post_without_its_antiforgery_token_is_refused_and_the_user_stays_signed_in()
    {
        using var client = await SignedInClient.CreateAsync(_app.ServerAddress, "member3");

        var response = await client.PostAsync("account/logout", new FormUrlEncodedContent([]));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/")).StatusCode);
    }

    [Fact]
    public async Task An_approval_post_without_its_antiforgery_token_is_refused()
    {
        _ = _app.ServerAddress;
        var id = await _app.WithDbAsync(db => db.Releases.Select(r => r.Id).FirstAsync());
        using var lead = await SignedInClient.CreateAsync(_app.ServerAddress, "lead.modeling");

        var response = await lead.PostAsync($"api/releases/{id}/approve", null);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("antiforgery token", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_cookie_copied_before_sign_out_no_longer_works_after_it()
    {
        var cookies = new CookieContainer();
        using var browser = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = _app.ServerAddress };
        Assert.Equal(HttpStatusCode.Redirect, (await PostSignInAsync(browser, "member4", SignedInClient.DemoPassword)).StatusCode);
        var stolen = cookies.GetCookies(_app.ServerAddress)[AuthCookie]!.Value;
        using var thief = new HttpClient(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = _app.ServerAddress };
        HttpRequestMessage WithStolenCookie() => new(HttpMethod.Get, "/") { Headers = { { "Cookie", $"{AuthCookie}={stolen}" } } };
        Assert.Equal(HttpStatusCode.OK, (await thief.SendAsync(WithStolenCookie())).StatusCode);

        var signOut = await SignedInClient.PostWithTokenAsync(browser, "account/logout");
        Assert.Equal(HttpStatusCode.Redirect, signOut.StatusCode);

        var after = await thief.SendAsync(WithStolenCookie());
        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
        Assert.StartsWith("/account/login", after.Headers.Location!.AbsolutePath);
    }

    [Fact]
    public async Task The_sign_in_cookie_is_a_session_cookie_unless_the_user_asks_to_be_remembered()
    {
        using var plain = SignedInClient.CreateAnonymous(_app.ServerAddress);
        var session = AuthSetCookie(await PostSignInAsync(plain, "member5", SignedInClient.DemoPassword));
        using var remembering = SignedInClient.CreateAnonymous(_app.ServerAddress);
        var persistent = AuthSetCookie(await PostSignInAsync(remembering, "member6", SignedInClient.DemoPassword, rememberMe: true));

        Assert.DoesNotContain("expires=", session, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("expires=", persistent, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_wrong_password_for_a_deactivated_account_answers_like_an_unknown_user()
    {
        _ = _app.ServerAddress;
        using (var scope = _app.Services.CreateScope())
        {
            var signIn = scope.ServiceProvider.GetRequiredService<SignInManager<PortalUser>>();
            var techLead = Actor.From(await signIn.CreateUserPrincipalAsync((await signIn.UserManager.FindByNameAsync("techlead"))!));
            var target = await signIn.UserManager.FindByNameAsync("member8");
            await scope.ServiceProvider.GetRequiredService<UserAdministration>().SetActiveAsync(techLead, target!.Id, false);
        }
        using var client = SignedInClient.CreateAnonymous(_app.ServerAddress);

        var unknown = await PostSignInAsync(client, "nobody.here", "wrong-password");
        var deactivated = await PostSignInAsync(client, "member8", "wrong-password");

        Assert.Contains("error=invalid", unknown.Headers.Location!.OriginalString);
        Assert.Equal(unknown.Headers.Location, deactivated.Headers.Location);
    }

    [Fact]
    public async Task Behind_a_tls_proxy_on_loopback_the_sign_in_cookie_is_marked_secure()
    {
        using var client = SignedInClient.CreateAnonymous(_app.ServerAddress);

        var response = await PostSignInAsync(client, "member9", SignedInClient.DemoPassword,
            configure: r => r.Headers.Add("X-Forwarded-Proto", "https"));

        Assert.Contains("; secure", AuthSetCookie(response), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task The_metrics_hub_refuses_a_connection_from_another_origin_and_accepts_its_own()
    {
        using var client = await SignedInClient.CreateAsync(_app.ServerAddress, "member10");
        HttpRequestMessage Negotiate(string origin) => new(HttpMethod.Post, "hubs/metrics/negotiate?negotiateVersion=1") { Headers = { { "Origin", origin } } };

        var foreign = await client.SendAsync(Negotiate("http://evil.example"));
        var own = await client.SendAsync(Negotiate(_app.ServerAddress.GetLeftPart(UriPartial.Authority)));

        Assert.Equal(HttpStatusCode.Forbidden, foreign.StatusCode);
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
    }

    [Fact]
    public async Task Pages_carry_a_script_policy_that_allows_only_the_portals_own_scripts()
    {
        using var client = await SignedInClient.CreateAsync(_app.ServerAddress, "member11");

        var response = await client.GetAsync("/");

        var policy = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self';", policy);
        Assert.Contains("frame-ancestors 'none'", policy);
    }
}
