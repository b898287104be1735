using System.Net;
using Portal.Testing;
using Portal.Web.Features.Api;

namespace Portal.Web.Tests.Api;

public sealed class ApiRateLimitTests : IClassFixture<ApiRateLimitTests.LimitedPortal>
{
    public sealed class LimitedPortal : PortalAppFactory
    {
        public LimitedPortal() => Settings["Portal:Api:RequestsPerMinute"] = "3";
    }

    private readonly LimitedPortal _app;
    public ApiRateLimitTests(LimitedPortal app) => _app = app;

    [Fact]
    public async Task A_token_over_its_limit_gets_429_with_retry_after_while_another_token_goes_on()
    {
        using var busy = ApiTestData.Client(_app, await ApiTestData.TokenAsync(_app, "member1", ApiScopes.Read));
        using var other = ApiTestData.Client(_app, await ApiTestData.TokenAsync(_app, "member2", ApiScopes.Read));
        for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.OK, (await busy.GetAsync("api/v1/me")).StatusCode);

        var limited = await busy.GetAsync("api/v1/me");

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal("application/problem+json", limited.Content.Headers.ContentType?.MediaType);
        Assert.True(limited.Headers.RetryAfter?.Delta > TimeSpan.Zero, "Retry-After is missing");
        Assert.Contains("more than 3 requests in a minute", await limited.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, (await other.GetAsync("api/v1/me")).StatusCode);
    }
}
