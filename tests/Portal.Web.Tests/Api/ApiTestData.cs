using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Testing;
using Portal.Web.Features.Api;
using Portal.Web.Features.Runs;
using Portal.Web.Features.Tasks;
using Portal.Web.Tests.Agents;

namespace Portal.Web.Tests.Api;

/// <summary>Tokens, clients and ids for the /api/v1 tests against the real server with the demo data.</summary>
public static partial class ApiTestData
{
    public static async Task<string> TokenAsync(PortalAppFactory app, string userName, ApiScopes scopes = ApiScopes.All, int days = 30)
    {
        _ = app.ServerAddress;
        using var scope = app.Services.CreateScope();
        var tokens = scope.ServiceProvider.GetRequiredService<PersonalTokenService>();
        return (await tokens.CreateAsync(await AgentTestData.ActorAsync(app, userName), $"test {Guid.NewGuid():N}"[..30], scopes, days)).Secret;
    }

    public static HttpClient Client(PortalAppFactory app, string? token)
    {
        var client = new HttpClient { BaseAddress = app.ServerAddress };
        if (token is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>Every /api/v1 endpoint the running portal maps, as (method, route pattern).</summary>
    public static IReadOnlyList<(string Method, string Pattern, RouteEndpoint Endpoint)> Endpoints(PortalAppFactory app)
    {
        _ = app.ServerAddress;
        return app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith(ApiEndpoints.Prefix + "/", StringComparison.Ordinal) == true)
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"]).Select(m => (m, e.RoutePattern.RawText!, e)))
            .OrderBy(e => e.Item2, StringComparer.Ordinal).ThenBy(e => e.m)
            .ToList();
    }

    /// <summary>The pattern with its parameters replaced by ids (unknown ones by 999999, which reads as a missing thing).</summary>
    public static string Fill(string pattern, IReadOnlyDictionary<string, long> ids) =>
        Parameter().Replace(pattern, m => (ids.TryGetValue(m.Groups[1].Value, out var id) ? id : 999_999).ToString()).TrimStart('/');

    /// <summary>The resource whose ETag the change endpoint needs in If-Match, filled with ids; null for a change that creates.</summary>
    public static string? ResourceOf(RouteEndpoint endpoint, IReadOnlyDictionary<string, long> ids) =>
        endpoint.Metadata.GetMetadata<ApiIfMatchMetadata>() is { } ifMatch ? Fill(ifMatch.ResourcePattern, ids) : null;

    /// <summary>A change sent as a client should: the resource read first and its ETag sent in If-Match.</summary>
    public static async Task<HttpResponseMessage> ChangeAsync(HttpClient client, HttpMethod method, string path, string? jsonBody, string resource)
    {
        using var read = await client.GetAsync(resource.TrimStart('/'));
        read.EnsureSuccessStatusCode();
        using var request = new HttpRequestMessage(method, path.TrimStart('/'))
        {
            Content = jsonBody is null ? null : new StringContent(jsonBody, Encoding.UTF8, "application/json"),
        };
        request.Headers.IfMatch.Add(read.Headers.ETag!);
        return await client.SendAsync(request);
    }

    [GeneratedRegex(@"\{(\w+)(:[^}]*)?\}")]
    private static partial Regex Parameter();

    public static async Task<long> ReleaseIdAsync(PortalAppFactory app) =>
        await app.WithDbAsync(db => db.Releases.Where(r => r.Name == "YOLOv4-tiny").Select(r => r.Id).SingleAsync());

    /// <summary>A new open task in the shapes project, created as a lead would.</summary>
    public static async Task<long> NewTaskAsync(PortalAppFactory app, string title)
    {
        using var scope = app.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<TaskEditing>().CreateAsync(await AgentTestData.ActorAsync(app, "lead.modeling"),
            await AgentTestData.ShapesProjectIdAsync(app), new TaskForm { Title = title, Component = ModelComponent.Head });
    }

    public static async Task<(long ProjectId, long TaskId, long RunId, long ReleaseId)> IdsAsync(PortalAppFactory app)
    {
        var projectId = await AgentTestData.ShapesProjectIdAsync(app);
        var taskId = await NewTaskAsync(app, "API matrix task");
        var runId = await AgentTestData.QueueRunAsync(app);
        return (projectId, taskId, runId, await ReleaseIdAsync(app));
    }

    public static async Task<int> CountAsync(PortalAppFactory app) =>
        await app.WithDbAsync(async db => await db.Runs.CountAsync() + await db.Activity.CountAsync() + await db.ReleaseAudit.CountAsync());

    public static Task<Run> RunAsync(PortalAppFactory app, long runId) => AgentTestData.RunAsync(app, runId);
}
