using System.Net;
using Portal.Web.Features.Api;
using Portal.Web.Tests.Api;

namespace Portal.Web.Tests.Cluster;

/// <summary>Two instances on one Redis: a token's requests count against one limit whichever instance answers them.</summary>
public sealed class ApiRateLimitAcrossInstancesTests : IAsyncLifetime
{
    private TwoInstances _cluster = null!;

    public Task InitializeAsync()
    {
        _cluster = new TwoInstances(app => app.Settings["Portal:Api:RequestsPerMinute"] = "4");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task A_tokens_requests_to_both_instances_count_against_one_limit_and_another_token_goes_on()
    {
        var token = await ApiTestData.TokenAsync(_cluster.A, "member1", ApiScopes.Read);
        using var viaA = ApiTestData.Client(_cluster.A, token);
        using var viaB = ApiTestData.Client(_cluster.B, token);
        using var other = ApiTestData.Client(_cluster.B, await ApiTestData.TokenAsync(_cluster.A, "member2", ApiScopes.Read));

        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await viaA.GetAsync("api/v1/me")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await viaB.GetAsync("api/v1/me")).StatusCode);
        }

        // Four requests in all: each instance alone saw two, yet both now refuse the fifth.
        foreach (var client in new[] { viaA, viaB })
        {
            var limited = await client.GetAsync("api/v1/me");
            Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
            Assert.Equal("application/problem+json", limited.Content.Headers.ContentType?.MediaType);
            Assert.True(limited.Headers.RetryAfter?.Delta is { TotalSeconds: > 0 and <= 60 }, $"Retry-After is {limited.Headers.RetryAfter}");
            Assert.Contains("more than 4 requests in a minute", await limited.Content.ReadAsStringAsync());
        }
        Assert.Equal(HttpStatusCode.OK, (await other.GetAsync("api/v1/me")).StatusCode);
    }
}
