using System.Net;
using System.Text.Json;
using Portal.Testing;

namespace Portal.Web.Tests.Api;

/// <summary>The OpenAPI document the portal serves, checked against the endpoints it maps, and the reference page built from it.</summary>
public sealed class OpenApiDocumentTests : IClassFixture<PortalAppFactory>
{
    private readonly PortalAppFactory _app;
    public OpenApiDocumentTests(PortalAppFactory app) => _app = app;

    [Fact]
    public async Task Every_api_endpoint_appears_in_the_document_with_its_method_and_nothing_else_does()
    {
        using var anonymous = SignedInClient.CreateAnonymous(_app.ServerAddress);
        var response = await anonymous.GetAsync("openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var documented = document.RootElement.GetProperty("paths").EnumerateObject()
            .SelectMany(p => p.Value.EnumerateObject().Where(o => o.Name is "get" or "post" or "put" or "delete" or "patch")
                .Select(o => $"{o.Name.ToUpperInvariant()} {p.Name}"))
            .ToHashSet();
        // The document writes route parameters without their constraints: {runId:long} is {runId}.
        var mapped = ApiTestData.Endpoints(_app)
            .Select(e => $"{e.Method} {System.Text.RegularExpressions.Regex.Replace(e.Pattern, @"\{(\w+):[^}]*\}", "{$1}")}")
            .ToHashSet();

        Assert.Empty(mapped.Except(documented));
        Assert.Empty(documented.Except(mapped));
        Assert.Contains("POST /api/v1/projects/{projectId}/runs", documented);
        var queue = document.RootElement.GetProperty("paths").GetProperty("/api/v1/projects/{projectId}/runs").GetProperty("post");
        Assert.Contains("Token scope: runs.", queue.GetProperty("description").GetString());
        Assert.True(queue.TryGetProperty("requestBody", out _));
    }

    [Fact]
    public async Task The_reference_page_lists_every_documented_path_for_a_signed_in_member()
    {
        using var member = await SignedInClient.CreateAsync(_app.ServerAddress, "member4");
        var html = WebUtility.HtmlDecode(await member.GetStringAsync("api"));
        foreach (var (_, pattern, _) in ApiTestData.Endpoints(_app))
            Assert.Contains(System.Text.RegularExpressions.Regex.Replace(pattern, @"\{(\w+):[^}]*\}", "{$1}"), html);
        Assert.Contains("/openapi/v1.json", html);
        Assert.DoesNotContain("<script src=\"http", html);
    }
}
