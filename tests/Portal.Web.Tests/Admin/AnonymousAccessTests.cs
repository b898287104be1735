using System.Net;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using Portal.Testing;

namespace Portal.Web.Tests.Admin;

/// <summary>
/// Walks every endpoint the running app has mapped (pages, APIs, hubs), so a page added later is covered
/// without touching this test, and checks that an anonymous request is refused.
/// </summary>
public sealed class AnonymousAccessTests : IClassFixture<PortalAppFactory>
{
    private readonly PortalAppFactory _app;
    public AnonymousAccessTests(PortalAppFactory app) => _app = app;

    [Fact]
    public async Task Every_page_and_endpoint_refuses_an_anonymous_user()
    {
        using var client = SignedInClient.CreateAnonymous(_app.ServerAddress);
        var endpoints = _app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();
        Assert.Contains(endpoints, e => e.RoutePattern.RawText == "/projects/{ProjectId:long}/board");

        var checkedCount = 0;
        var failures = new List<string>();
        foreach (var endpoint in endpoints)
        {
            if (IsPublic(endpoint)) continue;
            var path = SamplePath(endpoint.RoutePattern);
            foreach (var method in endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET"])
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), path);
                if (method is "POST" or "PUT" or "PATCH") request.Content = new FormUrlEncodedContent([]);
                using var response = await client.SendAsync(request);
                checkedCount++;
                var refused = response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
                              || (response.StatusCode == HttpStatusCode.Redirect && response.Headers.Location!.OriginalString.Contains("/account/login"));
                if (!refused) failures.Add($"{method} {path} ({endpoint.DisplayName}) answered {(int)response.StatusCode}");
            }
        }

        Assert.True(checkedCount > 10, $"only {checkedCount} endpoints were checked");
        Assert.Empty(failures);
    }

    [Fact]
    public void Only_the_sign_in_form_the_health_probes_and_static_files_are_open_to_anonymous_users()
    {
        var open = _app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<IAllowAnonymous>() is not null)
            .Where(e => !IsStaticFile(e))
            .Select(e => e.RoutePattern.RawText)
            .Distinct()
            .Order()
            .ToList();

        // The load balancer's probes carry no cookie; they say only whether the instance and its servers are up.
        Assert.Equal(["/account/login", "/health/live", "/health/ready"], open);
    }

    private static bool IsPublic(RouteEndpoint endpoint) =>
        endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null;

    /// <summary>Static assets (css, js, fonts, images) are mapped as endpoints too; they carry a file name.</summary>
    private static bool IsStaticFile(RouteEndpoint endpoint) =>
        Path.HasExtension(endpoint.RoutePattern.RawText ?? "") || endpoint.RoutePattern.RawText!.StartsWith("_content/") || endpoint.RoutePattern.RawText.StartsWith("/_content/");

    /// <summary>A concrete URL for a route pattern: numbers for numeric parameters, a word for the rest.</summary>
    private static string SamplePath(RoutePattern pattern)
    {
        var segments = pattern.PathSegments.Select(segment => string.Concat(segment.Parts.Select(part => part switch
        {
            RoutePatternLiteralPart literal => literal.Content,
            RoutePatternSeparatorPart separator => separator.Content,
            RoutePatternParameterPart parameter when parameter.ParameterPolicies.Any(p => p.Content is "long" or "int") => "1",
            RoutePatternParameterPart => "sample",
            _ => "",
        })));
        return "/" + string.Join('/', segments);
    }
}
