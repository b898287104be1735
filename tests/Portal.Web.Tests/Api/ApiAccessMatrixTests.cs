using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using Portal.Testing;
using Portal.Web.Features.Api;

namespace Portal.Web.Tests.Api;

/// <summary>
/// Who may call what, generated from the endpoints the portal maps: anonymous callers, tokens of each role, and tokens
/// missing each scope. A new /api/v1 endpoint without a scope, or a change without a role expectation here, fails.
/// </summary>
public sealed class ApiAccessMatrixTests : IClassFixture<PortalAppFactory>
{
    private static readonly string[] RoleUsers = ["member1", "lead.data", "mentor1", "techlead"];
    private readonly PortalAppFactory _app;

    public ApiAccessMatrixTests(PortalAppFactory app) => _app = app;

    private static HttpRequestMessage Request(string method, string path) =>
        new(new HttpMethod(method), path) { Content = method == "GET" ? null : new StringContent("{}", Encoding.UTF8, "application/json") };

    [Fact]
    public async Task Every_api_endpoint_asks_for_a_scope()
    {
        var endpoints = ApiTestData.Endpoints(_app);
        Assert.True(endpoints.Count >= 20, $"only {endpoints.Count} endpoints found");
        Assert.All(endpoints, e => Assert.True(e.Endpoint.Metadata.GetMetadata<ApiScopeMetadata>() is not null, $"{e.Method} {e.Pattern} asks for no scope"));
        Assert.All(endpoints.Where(e => e.Method == "GET"), e => Assert.Equal(ApiScopes.Read, e.Endpoint.Metadata.GetMetadata<ApiScopeMetadata>()!.Scope));
    }

    [Fact]
    public async Task Anonymous_callers_and_unknown_tokens_get_401_problem_details_from_every_endpoint_and_change_nothing()
    {
        var ids = await ApiTestData.IdsAsync(_app);
        var values = new Dictionary<string, long> { ["projectId"] = ids.ProjectId, ["taskId"] = ids.TaskId, ["runId"] = ids.RunId, ["releaseId"] = ids.ReleaseId };
        var before = await ApiTestData.CountAsync(_app);
        using var anonymous = ApiTestData.Client(_app, null);
        using var forged = ApiTestData.Client(_app, "ptk_not-a-real-token");
        var failures = new List<string>();
        foreach (var (method, pattern, _) in ApiTestData.Endpoints(_app))
        {
            foreach (var (client, expected) in new[] { (anonymous, "An access token is required"), (forged, "The access token is not valid.") })
            {
                var response = await client.SendAsync(Request(method, ApiTestData.Fill(pattern, values)));
                var body = await response.Content.ReadAsStringAsync();
                if (response.StatusCode != HttpStatusCode.Unauthorized || response.Content.Headers.ContentType?.MediaType != "application/problem+json" || !body.Contains(expected))
                    failures.Add($"{method} {pattern}: {(int)response.StatusCode} {body}");
            }
        }
        Assert.Empty(failures);
        Assert.Equal(before, await ApiTestData.CountAsync(_app));
    }

    [Fact]
    public async Task A_token_without_the_endpoints_scope_gets_403_naming_the_scope_and_changes_nothing()
    {
        var ids = await ApiTestData.IdsAsync(_app);
        var values = new Dictionary<string, long> { ["projectId"] = ids.ProjectId, ["taskId"] = ids.TaskId, ["runId"] = ids.RunId, ["releaseId"] = ids.ReleaseId };
        var before = await ApiTestData.CountAsync(_app);
        var failures = new List<string>();
        foreach (var scope in new[] { ApiScopes.Read, ApiScopes.Runs, ApiScopes.Tasks, ApiScopes.Releases })
        {
            // A lead and admin: only the scope can be missing.
            using var client = ApiTestData.Client(_app, await ApiTestData.TokenAsync(_app, "techlead", ApiScopes.All & ~scope));
            foreach (var (method, pattern, endpoint) in ApiTestData.Endpoints(_app).Where(e => e.Endpoint.Metadata.GetMetadata<ApiScopeMetadata>()!.Scope == scope))
            {
                var response = await client.SendAsync(Request(method, ApiTestData.Fill(pattern, values)));
                var body = await response.Content.ReadAsStringAsync();
                if (response.StatusCode != HttpStatusCode.Forbidden || !body.Contains($"lacks the '{scope.ToString().ToLowerInvariant()}' scope"))
                    failures.Add($"{method} {pattern} without {scope}: {(int)response.StatusCode} {body}");
            }
        }
        Assert.Empty(failures);
        Assert.Equal(before, await ApiTestData.CountAsync(_app));
    }

    [Fact]
    public async Task Every_role_reads_every_read_endpoint_with_a_read_token()
    {
        var ids = await ApiTestData.IdsAsync(_app);
        var values = new Dictionary<string, long> { ["projectId"] = ids.ProjectId, ["taskId"] = ids.TaskId, ["runId"] = ids.RunId, ["releaseId"] = ids.ReleaseId };
        var failures = new List<string>();
        foreach (var user in RoleUsers)
        {
            using var client = ApiTestData.Client(_app, await ApiTestData.TokenAsync(_app, user, ApiScopes.Read));
            foreach (var (method, pattern, _) in ApiTestData.Endpoints(_app).Where(e => e.Method == "GET"))
            {
                var response = await client.GetAsync(ApiTestData.Fill(pattern, values));
                // The artifact id is made up: 404 is the right answer there, never 401 or 403.
                var expected = pattern.Contains("{artifactId") ? HttpStatusCode.NotFound : HttpStatusCode.OK;
                if (response.StatusCode != expected) failures.Add($"{user} GET {pattern}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
        }
        Assert.Empty(failures);
    }

    /// <summary>What each role gets from each change, with a token holding every scope: the services' own rules.</summary>
    private sealed record Case(string User, int Status, string? Message = null);

    [Fact]
    public async Task Each_change_is_allowed_or_refused_by_role_exactly_as_the_pages_services_decide()
    {
        var projectId = await Portal.Web.Tests.Agents.AgentTestData.ShapesProjectIdAsync(_app);
        var releaseId = await ApiTestData.ReleaseIdAsync(_app);
        var cases = new Dictionary<string, Case[]>
        {
            ["POST /api/v1/projects/{projectId:long}/runs"] =
                [new("mentor1", 403, "Only team members and leads can start runs."), new("member1", 201), new("lead.data", 201), new("techlead", 201)],
            ["POST /api/v1/runs/{runId:long}/cancel"] =
                [new("mentor1", 403, "Only the person who started the run or a lead can cancel it."), new("member2", 403, "Only the person who started the run or a lead can cancel it."), new("member1", 200)],
            ["POST /api/v1/runs/{runId:long}/resume"] =
                [new("member2", 403, "Only the person who started the run or a lead can resume it."), new("member1", 409, "Only a Lost or Failed run can be resumed")],
            ["POST /api/v1/tasks/{taskId:long}/claim"] =
                [new("mentor1", 403, "Only members and leads claim tasks."), new("member3", 200)],
            ["POST /api/v1/tasks/{taskId:long}/unclaim"] =
                [new("member4", 403, "held by someone else"), new("member3", 200)],
            ["POST /api/v1/tasks/{taskId:long}/move"] =
                [new("member3", 200), new("member4", 403, "held by someone else"), new("member3", 403, "Only a lead marks a task done.")],
            ["POST /api/v1/tasks/{taskId:long}/assign"] =
                [new("member1", 403, "Only a lead can assign tasks."), new("mentor1", 403, "Only a lead can assign tasks."), new("lead.loss", 200)],
            ["PUT /api/v1/releases/{releaseId:long}/runs"] =
                [new("member1", 403, "Only a lead can choose a release's runs."), new("mentor1", 403, "Only a lead can choose a release's runs."), new("lead.data", 200)],
        };
        var changes = ApiTestData.Endpoints(_app).Where(e => e.Method != "GET").ToDictionary(e => $"{e.Method} {e.Pattern}", e => e.Endpoint);
        Assert.Equal(changes.Keys.Order(), cases.Keys.Order());

        var failures = new List<string>();
        foreach (var (key, expectations) in cases)
        {
            var method = key[..key.IndexOf(' ')];
            var pattern = key[(key.IndexOf(' ') + 1)..];
            var taskId = await ApiTestData.NewTaskAsync(_app, $"API role case {key}");
            var runId = await Portal.Web.Tests.Agents.AgentTestData.QueueRunAsync(_app);
            var values = new Dictionary<string, long> { ["projectId"] = projectId, ["taskId"] = taskId, ["runId"] = runId, ["releaseId"] = releaseId };
            if (key.Contains("unclaim") || key.Contains("move"))
            {
                using var holder = ApiTestData.Client(_app, await ApiTestData.TokenAsync(_app, "member3"));
                (await ApiTestData.ChangeAsync(holder, HttpMethod.Post, $"api/v1/tasks/{taskId}/claim", null, $"api/v1/tasks/{taskId}")).EnsureSuccessStatusCode();
            }
            var moveTargets = new Queue<string>(["InReview", "Open", "Done"]);
            foreach (var c in expectations)
            {
                using var client = ApiTestData.Client(_app, await ApiTestData.TokenAsync(_app, c.User));
                var body = pattern switch
                {
                    _ when pattern.EndsWith("/runs") && method == "POST" => """{"recipe": "detector", "config": {"steps": 5}, "seed": 1}""",
                    _ when pattern.EndsWith("/move") => $$"""{"to": "{{moveTargets.Dequeue()}}"}""",
                    _ when pattern.EndsWith("/assign") => """{"userName": "member5"}""",
                    _ when pattern.EndsWith("/runs") => "{\"runIds\": []}",
                    _ => null,
                };
                // Each caller reads what it changes first and sends its ETag, as the API asks (ApiPreconditionTests).
                var resource = ApiTestData.ResourceOf(changes[key], values);
                var response = resource is null
                    ? await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), ApiTestData.Fill(pattern, values))
                    {
                        Content = body is null ? null : new StringContent(body, Encoding.UTF8, "application/json"),
                    })
                    : await ApiTestData.ChangeAsync(client, new HttpMethod(method), ApiTestData.Fill(pattern, values), body, resource);
                var text = await response.Content.ReadAsStringAsync();
                if ((int)response.StatusCode != c.Status || (c.Message is not null && !text.Contains(c.Message)))
                    failures.Add($"{c.User} {key}: expected {c.Status} {c.Message}, got {(int)response.StatusCode} {text}");
                if (response.StatusCode >= HttpStatusCode.BadRequest && response.Content.Headers.ContentType?.MediaType != "application/problem+json")
                    failures.Add($"{c.User} {key}: an error that is not problem+json");
            }
        }
        Assert.Empty(failures);
    }

    [Fact]
    public async Task A_deactivated_users_token_stops_at_once_and_a_role_taken_away_is_gone_from_the_next_call()
    {
        var token = await ApiTestData.TokenAsync(_app, "member7");
        using var client = ApiTestData.Client(_app, token);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("api/v1/me")).StatusCode);

        await _app.WithDbAsync(async db =>
        {
            var user = db.Users.Single(u => u.UserName == "member7");
            user.IsActive = false;
            return await db.SaveChangesAsync();
        });

        var response = await client.GetAsync("api/v1/me");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("deactivated", await response.Content.ReadAsStringAsync());
        var queue = await client.PostAsync($"api/v1/projects/{await Portal.Web.Tests.Agents.AgentTestData.ShapesProjectIdAsync(_app)}/runs",
            new StringContent("""{"recipe": "detector"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Unauthorized, queue.StatusCode);
    }
}
