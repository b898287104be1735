using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Testing;
using Portal.Web.Features.Api;
using Portal.Web.Features.Tasks;
using Portal.Web.Tests.Agents;

namespace Portal.Web.Tests.Api;

/// <summary>Paging, ETags and preconditions, tokens that expired or were revoked, and bad input: a clear problem and nothing changed.</summary>
public sealed class ApiBehaviourTests : IClassFixture<PortalAppFactory>
{
    private readonly PortalAppFactory _app;

    public ApiBehaviourTests(PortalAppFactory app)
    {
        _app = app;
        AgentTestData.UseFastHeartbeats(app);
    }

    private static StringContent JsonBody(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<JsonElement> ReadAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    [Fact]
    public async Task Pages_follow_each_other_in_a_stable_order_and_a_page_past_the_end_is_a_problem()
    {
        using var client = ApiTestData.Client(_app, await ApiTestData.TokenAsync(_app, "member1", ApiScopes.Read));
        var all = await ReadAsync(await client.GetAsync("api/v1/projects?limit=200"));
        var total = all.GetProperty("total").GetInt32();
        Assert.True(total >= 3);
        var names = new List<string>();
        string? next = "api/v1/projects?limit=2";
        while (next is not null)
        {
            var page = await ReadAsync(await client.GetAsync(next.TrimStart('/')));
            names.AddRange(page.GetProperty("items").EnumerateArray().Select(p => p.GetProperty("name").GetString()!));
            next = page.GetProperty("next").ValueKind == JsonValueKind.Null ? null : page.GetProperty("next").GetString();
        }
        Assert.Equal(all.GetProperty("items").EnumerateArray().Select(p => p.GetProperty("name").GetString()!), names);
        Assert.Equal(names.Order(StringComparer.Ordinal), names);

        var pages = (total + 1) / 2;
        var past = await client.GetAsync($"api/v1/projects?limit=2&page={pages + 1}");
        Assert.Equal(HttpStatusCode.BadRequest, past.StatusCode);
        Assert.Equal("application/problem+json", past.Content.Headers.ContentType?.MediaType);
        Assert.Contains($"page {pages + 1} is past the end: there are {pages} pages of 2", await past.Content.ReadAsStringAsync());
        Assert.Contains("limit must be between 1 and 200", await (await client.GetAsync("api/v1/projects?limit=0")).Content.ReadAsStringAsync());
        Assert.Contains("sort 'size' is not one of", await (await client.GetAsync("api/v1/projects?sort=size")).Content.ReadAsStringAsync());
        var wrongType = await client.GetAsync("api/v1/projects?limit=many");
        Assert.Equal(HttpStatusCode.BadRequest, wrongType.StatusCode);
        Assert.Contains("limit", await wrongType.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_read_carries_an_etag_that_answers_304_and_a_change_with_a_stale_if_match_gets_412_and_changes_nothing()
    {
        var taskId = await ApiTestData.NewTaskAsync(_app, "ETag task");
        using var client = ApiTestData.Client(_app, await ApiTestData.TokenAsync(_app, "member2"));
        var first = await client.GetAsync($"api/v1/tasks/{taskId}");
        var etag = first.Headers.ETag!;
        using (var again = new HttpRequestMessage(HttpMethod.Get, $"api/v1/tasks/{taskId}"))
        {
            again.Headers.IfNoneMatch.Add(etag);
            Assert.Equal(HttpStatusCode.NotModified, (await client.SendAsync(again)).StatusCode);
        }

        // Someone else edits the task: the ETag the client holds is now stale.
        using (var scope = _app.Services.CreateScope())
        {
            var version = (await scope.ServiceProvider.GetRequiredService<TaskBoard>().GetTaskAsync(taskId)).Version;
            await scope.ServiceProvider.GetRequiredService<TaskEditing>().UpdateAsync(await AgentTestData.ActorAsync(_app, "lead.modeling"), taskId, version,
                new TaskForm { Title = "ETag task, renamed", Component = ModelComponent.Head });
        }
        using var stale = new HttpRequestMessage(HttpMethod.Post, $"api/v1/tasks/{taskId}/claim");
        stale.Headers.IfMatch.Add(etag);
        var refused = await client.SendAsync(stale);
        Assert.Equal(HttpStatusCode.PreconditionFailed, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Contains("changed since you read it", await refused.Content.ReadAsStringAsync());
        Assert.Equal(ProjectTaskStatus.Open, await _app.WithDbAsync(db => db.Tasks.Where(t => t.Id == taskId).Select(t => t.Status).SingleAsync()));

        var fresh = await client.GetAsync($"api/v1/tasks/{taskId}");
        Assert.NotEqual(etag, fresh.Headers.ETag);
        using var current = new HttpRequestMessage(HttpMethod.Post, $"api/v1/tasks/{taskId}/claim");
        current.Headers.IfMatch.Add(fresh.Headers.ETag!);
        var claimed = await client.SendAsync(current);
        Assert.Equal(HttpStatusCode.OK, claimed.StatusCode);
        Assert.Equal("Claimed", (await ReadAsync(claimed)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Unknown_fields_wrong_types_and_a_config_the_recipe_refuses_are_problems_and_queue_nothing()
    {
        var projectId = await AgentTestData.ShapesProjectIdAsync(_app);
        using var client = ApiTestData.Client(_app, await ApiTestData.TokenAsync(_app, "member1", ApiScopes.Runs));
        var before = await _app.WithDbAsync(db => db.Runs.CountAsync());

        var cases = new (string Body, string Message)[]
        {
            ("""{"recipe": "detector", "sead": 3}""", "'sead' could not be mapped"),
            ("""{"recipe": "detector", "seed": "three"}""", "could not be converted"),
            ("""{"recipe": "detector", "config": {"stepz": 3}}""", "config is not valid"),
            ("""{"recipe": "detector", "config": [1, 2]}""", "config is a JSON object"),
            ("""{"recipe": "no-such-recipe"}""", "Unknown recipe 'no-such-recipe'"),
            ("""{"recipe": "detector", "commit": "not a hash"}""", "A commit is a git hash"),
            ("""{"recipe": "detector", "seeds": [1, 1]}""", "The seeds repeat a value."),
            ("""{"recipe": "detector", """, "not valid for this endpoint"),
        };
        foreach (var (body, message) in cases)
        {
            var response = await client.PostAsync($"api/v1/projects/{projectId}/runs", JsonBody(body));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains(message, await response.Content.ReadAsStringAsync());
        }
        Assert.Equal(before, await _app.WithDbAsync(db => db.Runs.CountAsync()));
    }

    [Fact]
    public async Task Queueing_three_seeds_makes_three_runs_with_the_commit_and_config()
    {
        var projectId = await AgentTestData.ShapesProjectIdAsync(_app);
        using var client = ApiTestData.Client(_app, await ApiTestData.TokenAsync(_app, "member1"));
        var response = await client.PostAsync($"api/v1/projects/{projectId}/runs",
            JsonBody("""{"recipe": "detector", "config": {"steps": 7}, "seeds": [1, 2, 3], "commit": "ABCDEF1"}"""));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var ids = (await ReadAsync(response)).GetProperty("runIds").EnumerateArray().Select(e => e.GetInt64()).ToList();
        Assert.Equal(3, ids.Count);
        Assert.Equal($"/api/v1/runs/{ids[0]}", response.Headers.Location?.OriginalString);
        var runs = await _app.WithDbAsync(db => db.Runs.Where(r => ids.Contains(r.Id)).OrderBy(r => r.Id).ToListAsync());
        Assert.Equal([1, 2, 3], runs.Select(r => r.Seed));
        Assert.All(runs, r => Assert.Equal("abcdef1", r.Commit));
        Assert.All(runs, r => Assert.Contains("\"steps\":7", r.ConfigJson.Replace(" ", "")));

        var listed = await ReadAsync(await client.GetAsync($"api/v1/projects/{projectId}/runs?commit=abcdef1&sort=id"));
        Assert.Equal(ids, listed.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("id").GetInt64()));
        Assert.Contains("status 'Sleeping' is not one of", await (await client.GetAsync($"api/v1/projects/{projectId}/runs?status=Sleeping")).Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Metrics_come_as_json_or_csv_downsampled_or_in_full_and_a_range_beyond_the_run_is_a_problem()
    {
        var (_, agentToken) = await AgentTestData.CreateTokenAsync(_app);
        await using var agent = await TestAgent.ConnectAsync(_app.ServerAddress, agentToken, "metrics-box");
        var runId = await AgentTestData.QueueRunAsync(_app);
        await agent.TakeJobForAsync(runId);
        Assert.Null((await agent.SendAsync(runId, 1, TestAgent.Points("loss", 0, 2999))).Error);
        await agent.FinishAsync(runId, Portal.Contracts.RunOutcomeStatus.Succeeded, 2999, new Dictionary<string, double> { ["AP50"] = 0.5 });
        using var client = ApiTestData.Client(_app, await ApiTestData.TokenAsync(_app, "mentor2", ApiScopes.Read));

        var json = await ReadAsync(await client.GetAsync($"api/v1/runs/{runId}/metrics"));
        var loss = json.GetProperty("series").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "loss");
        Assert.Equal(3000, loss.GetProperty("count").GetInt64());
        Assert.True(loss.GetProperty("points").GetArrayLength() <= 1000);
        Assert.True(loss.GetProperty("level").GetInt32() > 0);
        Assert.Equal(0.5, json.GetProperty("finalMetrics").GetProperty("AP50").GetDouble());

        var full = await ReadAsync(await client.GetAsync($"api/v1/runs/{runId}/metrics?name=loss&full=true"));
        Assert.Equal(3000, full.GetProperty("series")[0].GetProperty("points").GetArrayLength());

        var csv = await client.GetStringAsync($"api/v1/runs/{runId}/metrics?name=loss&from=10&to=19&format=csv");
        var lines = csv.TrimEnd('\n').Split('\n');
        Assert.Equal("metric,step,value,time", lines[0]);
        Assert.Equal(Enumerable.Range(10, 10).Select(i => i.ToString()), lines.Skip(1).Select(l => l.Split(',')[1]));
        using (var accept = new HttpRequestMessage(HttpMethod.Get, $"api/v1/runs/{runId}/metrics?name=loss&from=0&to=1"))
        {
            accept.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/csv"));
            Assert.Equal("text/csv", (await client.SendAsync(accept)).Content.Headers.ContentType?.MediaType);
        }

        var beyond = await client.GetAsync($"api/v1/runs/{runId}/metrics?from=2000&to=5000");
        Assert.Equal(HttpStatusCode.BadRequest, beyond.StatusCode);
        Assert.Contains("has reached step 2999; the range 2000-5000 lies beyond it", await beyond.Content.ReadAsStringAsync());
        Assert.Contains("has no metric 'acc'", await (await client.GetAsync($"api/v1/runs/{runId}/metrics?name=acc")).Content.ReadAsStringAsync());
        Assert.Contains("is reversed", await (await client.GetAsync($"api/v1/runs/{runId}/metrics?from=9&to=3")).Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Expired_and_revoked_tokens_are_refused_with_the_reason()
    {
        var member = await AgentTestData.ActorAsync(_app, "member6");
        using var scope = _app.Services.CreateScope();
        var tokens = scope.ServiceProvider.GetRequiredService<PersonalTokenService>();
        var created = await tokens.CreateAsync(member, "soon revoked", ApiScopes.Read, 1);
        using var client = ApiTestData.Client(_app, created.Secret);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("api/v1/me")).StatusCode);
        await tokens.RevokeAsync(member, created.Id);
        var revoked = await client.GetAsync("api/v1/me");
        Assert.Equal(HttpStatusCode.Unauthorized, revoked.StatusCode);
        Assert.Contains("The access token was revoked.", await revoked.Content.ReadAsStringAsync());

        var expiring = await tokens.CreateAsync(member, "expired", ApiScopes.Read, 1);
        await _app.WithDbAsync(db => db.PersonalAccessTokens.Where(t => t.Id == expiring.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.ExpiresAt, DateTimeOffset.UtcNow.AddMinutes(-1))));
        using var late = ApiTestData.Client(_app, expiring.Secret);
        var expired = await late.GetAsync("api/v1/me");
        Assert.Equal(HttpStatusCode.Unauthorized, expired.StatusCode);
        Assert.Contains("The access token expired at", await expired.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_token_opens_no_page_hub_or_agent_endpoint()
    {
        using var client = ApiTestData.Client(_app, await ApiTestData.TokenAsync(_app, "techlead"));
        using var noRedirect = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = _app.ServerAddress };
        noRedirect.DefaultRequestHeaders.Authorization = client.DefaultRequestHeaders.Authorization;
        Assert.Equal(HttpStatusCode.Redirect, (await noRedirect.GetAsync("admin/users")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await noRedirect.GetAsync("api/agent/runs/1/checkpoint")).StatusCode);
    }
}
