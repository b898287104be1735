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
    public async Task The_document_the_build_writes_is_the_one_the_running_portal_serves()
    {
        var path = typeof(OpenApiDocumentTests).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
            .Cast<System.Reflection.AssemblyMetadataAttribute>().Single(a => a.Key == "PortalOpenApiDocument").Value!;
        Assert.True(File.Exists(path), $"The build wrote no OpenAPI document at {Path.GetFullPath(path)}.");
        using var anonymous = SignedInClient.CreateAnonymous(_app.ServerAddress);
        var served = System.Text.Json.Nodes.JsonNode.Parse(await anonymous.GetStringAsync("openapi/v1.json"))!.AsObject();
        var built = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(path))!.AsObject();

        // The served document names the address it was asked at; the build's has none. Everything else is the same.
        served.Remove("servers");
        built.Remove("servers");
        Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(built, served),
            $"The OpenAPI document built at {path} differs from /openapi/v1.json:\n{FirstDifference(built, served, "$")}");
        Assert.True(built["paths"]!.AsObject().Count > 0);
    }

    /// <summary>The first place two JSON trees differ, as a path, for a failure message a person can act on.</summary>
    private static string FirstDifference(System.Text.Json.Nodes.JsonNode? a, System.Text.Json.Nodes.JsonNode? b, string at)
    {
        if (a is System.Text.Json.Nodes.JsonObject oa && b is System.Text.Json.Nodes.JsonObject ob)
        {
            foreach (var key in oa.Select(p => p.Key).Union(ob.Select(p => p.Key)))
                if (!System.Text.Json.Nodes.JsonNode.DeepEquals(oa[key], ob[key])) return FirstDifference(oa[key], ob[key], $"{at}.{key}");
        }
        else if (a is System.Text.Json.Nodes.JsonArray aa && b is System.Text.Json.Nodes.JsonArray ab && aa.Count == ab.Count)
        {
            for (var i = 0; i < aa.Count; i++)
                if (!System.Text.Json.Nodes.JsonNode.DeepEquals(aa[i], ab[i])) return FirstDifference(aa[i], ab[i], $"{at}[{i}]");
        }
        return $"{at}: built {a?.ToJsonString() ?? "nothing"}, served {b?.ToJsonString() ?? "nothing"}";
    }

    [Fact]
    public async Task Changes_that_need_if_match_say_so_in_the_document()
    {
        using var anonymous = SignedInClient.CreateAnonymous(_app.ServerAddress);
        using var document = JsonDocument.Parse(await anonymous.GetStringAsync("openapi/v1.json"));
        var cancel = document.RootElement.GetProperty("paths").GetProperty("/api/v1/runs/{runId}/cancel").GetProperty("post");
        var ifMatch = cancel.GetProperty("parameters").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "If-Match");
        Assert.Equal("header", ifMatch.GetProperty("in").GetString());
        Assert.True(ifMatch.GetProperty("required").GetBoolean());
        Assert.True(cancel.GetProperty("responses").TryGetProperty("428", out _));
        var queue = document.RootElement.GetProperty("paths").GetProperty("/api/v1/projects/{projectId}/runs").GetProperty("post");
        Assert.False(queue.TryGetProperty("parameters", out var parameters) && parameters.EnumerateArray().Any(p => p.GetProperty("name").GetString() == "If-Match"));
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
