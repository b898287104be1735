using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Testing;
using Portal.Web.Features.Api;
using Portal.Web.Features.Releases;
using Portal.Web.Features.Runs;
using Portal.Web.Features.Tasks;
using Portal.Web.Tests.Agents;

namespace Portal.Web.Tests.Api;

/// <summary>
/// Changes of an existing task, run or release need If-Match with the ETag last read: 428 without it, 412 when someone
/// changed the resource since, and nothing is changed either way. Generated from the endpoints the portal maps.
/// </summary>
public sealed class ApiPreconditionTests : IClassFixture<PortalAppFactory>
{
    private readonly PortalAppFactory _app;
    public ApiPreconditionTests(PortalAppFactory app) => _app = app;

    private static string WithoutConstraints(string pattern) => Regex.Replace(pattern, @"\{(\w+):[^}]*\}", "{$1}");

    [Fact]
    public void Every_change_of_an_existing_resource_needs_if_match_of_a_resource_the_api_reads_and_only_queueing_runs_does_not()
    {
        var endpoints = ApiTestData.Endpoints(_app);
        var changes = endpoints.Where(e => e.Method != "GET").ToList();
        var reads = endpoints.Where(e => e.Method == "GET").Select(e => WithoutConstraints(e.Pattern)).ToHashSet();

        // Queueing creates runs: there is nothing the client read before that could have changed.
        Assert.Equal(["POST /api/v1/projects/{projectId:long}/runs"],
            changes.Where(e => e.Endpoint.Metadata.GetMetadata<ApiIfMatchMetadata>() is null).Select(e => $"{e.Method} {e.Pattern}"));
        Assert.All(changes.Select(e => e.Endpoint.Metadata.GetMetadata<ApiIfMatchMetadata>()).OfType<ApiIfMatchMetadata>(),
            m => Assert.Contains(m.ResourcePattern, reads));
    }

    [Fact]
    public async Task A_change_without_if_match_gets_428_and_one_with_a_stale_etag_gets_412_on_every_endpoint_and_neither_changes_anything()
    {
        var releaseId = await ApiTestData.ReleaseIdAsync(_app);
        var projectId = await AgentTestData.ShapesProjectIdAsync(_app);
        using var lead = ApiTestData.Client(_app, await ApiTestData.TokenAsync(_app, "techlead"));
        var guarded = ApiTestData.Endpoints(_app).Where(e => e.Endpoint.Metadata.GetMetadata<ApiIfMatchMetadata>() is not null).ToList();
        Assert.True(guarded.Count >= 7, $"only {guarded.Count} endpoints need If-Match");

        var failures = new List<string>();
        foreach (var (method, pattern, endpoint) in guarded)
        {
            var ids = new Dictionary<string, long>
            {
                ["projectId"] = projectId, ["releaseId"] = releaseId,
                ["taskId"] = await ApiTestData.NewTaskAsync(_app, $"If-Match case {method} {pattern}"),
                ["runId"] = await AgentTestData.QueueRunAsync(_app),
            };
            var path = ApiTestData.Fill(pattern, ids);
            var resource = ApiTestData.ResourceOf(endpoint, ids)!;
            var body = pattern switch
            {
                _ when pattern.EndsWith("/move") => """{"to": "Claimed"}""",
                _ when pattern.EndsWith("/assign") => """{"userName": "member5"}""",
                _ when pattern.EndsWith("/runs") => "{\"runIds\": []}",
                _ => null,
            };
            HttpRequestMessage Change(EntityTagHeaderValue? ifMatch)
            {
                var request = new HttpRequestMessage(new HttpMethod(method), path)
                {
                    Content = body is null ? null : new StringContent(body, Encoding.UTF8, "application/json"),
                };
                if (ifMatch is not null) request.Headers.IfMatch.Add(ifMatch);
                return request;
            }

            var read = (await lead.GetAsync(resource)).Headers.ETag!;
            var before = await ApiTestData.CountAsync(_app);
            var missing = await lead.SendAsync(Change(null));
            var missingText = await missing.Content.ReadAsStringAsync();
            if (missing.StatusCode != HttpStatusCode.PreconditionRequired || missing.Content.Headers.ContentType?.MediaType != "application/problem+json"
                || !missingText.Contains($"This change needs If-Match: read /{resource} first and send its ETag"))
                failures.Add($"{method} {pattern} without If-Match: {(int)missing.StatusCode} {missingText}");
            if (!Equals(read, (await lead.GetAsync(resource)).Headers.ETag) || before != await ApiTestData.CountAsync(_app))
                failures.Add($"{method} {pattern} without If-Match changed the resource");

            // Someone else changes the resource: the ETag the client holds is now stale.
            await ChangeElsewhereAsync(resource, ids);
            var changed = (await lead.GetAsync(resource)).Headers.ETag!;
            if (Equals(read, changed)) failures.Add($"{method} {pattern}: the change elsewhere left the ETag as it was");
            before = await ApiTestData.CountAsync(_app);
            var stale = await lead.SendAsync(Change(read));
            var staleText = await stale.Content.ReadAsStringAsync();
            if (stale.StatusCode != HttpStatusCode.PreconditionFailed || stale.Content.Headers.ContentType?.MediaType != "application/problem+json"
                || !staleText.Contains("changed since you read it"))
                failures.Add($"{method} {pattern} with a stale If-Match: {(int)stale.StatusCode} {staleText}");
            if (!Equals(changed, (await lead.GetAsync(resource)).Headers.ETag) || before != await ApiTestData.CountAsync(_app))
                failures.Add($"{method} {pattern} with a stale If-Match changed the resource");
        }
        Assert.Empty(failures);
    }

    /// <summary>A change through the pages' services, as another user at another screen would make it.</summary>
    private async Task ChangeElsewhereAsync(string resource, IReadOnlyDictionary<string, long> ids)
    {
        using var scope = _app.Services.CreateScope();
        var services = scope.ServiceProvider;
        var lead = await AgentTestData.ActorAsync(_app, "lead.modeling");
        if (resource.Contains("/tasks/"))
        {
            var version = (await services.GetRequiredService<TaskBoard>().GetTaskAsync(ids["taskId"])).Version;
            await services.GetRequiredService<TaskEditing>().UpdateAsync(lead, ids["taskId"], version,
                new TaskForm { Title = $"Renamed elsewhere {Guid.NewGuid():N}", Component = ModelComponent.Head });
        }
        else if (resource.Contains("/runs/"))
        {
            await services.GetRequiredService<RunService>().CancelAsync(await AgentTestData.ActorAsync(_app, "member1"), ids["runId"]);
        }
        else
        {
            var release = services.GetRequiredService<ReleaseService>();
            var chosen = await _app.WithDbAsync(db => db.Releases.Where(r => r.Id == ids["releaseId"]).SelectMany(r => r.Runs.Select(x => x.RunId)).ToListAsync());
            var finished = await _app.WithDbAsync(db => db.Runs.Where(r => r.ProjectId == db.Releases.Single(x => x.Id == ids["releaseId"]).ProjectId
                && r.Status == RunStatus.Succeeded).Select(r => r.Id).ToListAsync());
            // Drop one chosen run, or choose one when none is.
            IReadOnlyCollection<long> next = chosen.Count > 0 ? chosen.Skip(1).ToList() : finished.Take(1).ToList();
            await release.ChooseRunsAsync(await AgentTestData.ActorAsync(_app, "techlead"), ids["releaseId"], next);
        }
    }
}
