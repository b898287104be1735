using System.Net;
using Portal.Testing;

namespace Portal.Web.Tests.Account;

public sealed class SignInTests : IClassFixture<PortalAppFactory>
{
    private readonly PortalAppFactory _app;
    public SignInTests(PortalAppFactory app) => _app = app;

    [Fact]
    public async Task An_anonymous_visitor_is_sent_to_the_sign_in_page()
    {
        using var client = SignedInClient.CreateAnonymous(_app.ServerAddress);
        var response = await client.GetAsync("/");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/account/login", response.Headers.Location!.AbsolutePath);
    }

    [Fact]
    public async Task A_demo_member_signs_in_and_sees_the_projects()
    {
        using var client = await SignedInClient.CreateAsync(_app.ServerAddress, "member1");
        var html = await client.GetStringAsync("/");
        Assert.Contains("Reproduction projects", html);
        Assert.Contains("YOLOv4", html);
    }

    [Fact]
    public async Task A_wrong_password_is_refused_with_a_message()
    {
        using var client = SignedInClient.CreateAnonymous(_app.ServerAddress);
        var token = await SignedInClient.GetAntiforgeryTokenAsync(client, "account/login");
        var response = await client.PostAsync("account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["username"] = "member2", ["password"] = "not-the-password", ["__RequestVerificationToken"] = token,
        }));
        Assert.Contains("error=invalid", response.Headers.Location!.OriginalString);
        var page = await client.GetStringAsync(response.Headers.Location);
        Assert.Contains("The user name or password is not right.", page);
    }

    [Fact]
    public async Task A_sign_in_post_without_its_antiforgery_token_is_refused()
    {
        using var client = SignedInClient.CreateAnonymous(_app.ServerAddress);
        var response = await client.PostAsync("account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["username"] = "member1", ["password"] = SignedInClient.DemoPassword,
        }));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("antiforgery token", await response.Content.ReadAsStringAsync());
    }
}
