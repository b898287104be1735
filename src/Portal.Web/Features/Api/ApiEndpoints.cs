using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Portal.Web.Data;
using Portal.Web.Features.Curves;
using Portal.Web.Features.Projects;
using Portal.Web.Features.Releases;
using Portal.Web.Features.Runs;
using Portal.Web.Features.Tasks;
using Portal.Web.Infrastructure;
using static Portal.Web.Features.Api.ApiSupport;

namespace Portal.Web.Features.Api;

/// <summary>
/// /api/v1: thin handlers over the same feature services the pages call, with the token's user as the actor. Rules
/// (who may claim, who may cancel, which config a recipe takes) live in those services and nowhere here.
/// </summary>
public static class ApiEndpoints
{
    public const string Prefix = "/api/v1";
    public const string RateLimitPolicy = "api";
    public const int MaxSeedsPerRequest = 20;
    public const int FullResolutionMaxPoints = 20_000;

    public static IEndpointRouteBuilder MapApiEndpoints(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(Prefix).RequireAuthorization(ApiAuth.Policy).RequireRateLimiting(RateLimitPolicy)
            .DisableAntiforgery().WithTags("Portal");

        api.MapGet("/me", (HttpContext http) =>
        {
            var actor = ActorOf(http);
            var scopes = Enum.GetValues<ApiScopes>().Where(s => s is not (ApiScopes.None or ApiScopes.All) && (ApiAuth.Scopes(http.User) & s) != 0)
                .Select(s => s.ToString().ToLowerInvariant()).ToList();
            return Json(http, new ApiMe(actor.UserId, actor.DisplayName, actor.Roles.Order().ToList(), scopes));
        }).RequireScope(ApiScopes.Read).Produces<ApiMe>().WithSummary("Who the token acts as, with the user's current roles and the token's scopes.");

        MapProjects(api);
        MapTasks(api);
        MapRuns(api);
        MapReleases(api);
        return app;
    }

    private static void MapProjects(RouteGroupBuilder api)
    {
        api.MapGet("/projects", async (HttpContext http, ProjectService projects, string? sort, int? limit, int? page, CancellationToken ct) =>
        {
            var rows = (await projects.ListAsync(ct)).Select(p => new ApiProject(p.Id, p.Name, p.Summary, p.Stage, p.IsDemo, p.OpenTasks, p.ClaimCount));
            rows = (sort ?? "name") switch
            {
                "name" => rows.OrderBy(p => p.Name, StringComparer.Ordinal).ThenBy(p => p.Id),
                "-name" => rows.OrderByDescending(p => p.Name, StringComparer.Ordinal).ThenBy(p => p.Id),
                "id" => rows.OrderBy(p => p.Id),
                "-id" => rows.OrderByDescending(p => p.Id),
                "stage" => rows.OrderBy(p => p.Stage).ThenBy(p => p.Id),
                _ => throw PortalError.Validation($"sort '{sort}' is not one of: name, -name, id, -id, stage."),
            };
            return Json(http, Page(http, rows.ToList(), limit, page));
        }).RequireScope(ApiScopes.Read).Produces<ApiPage<ApiProject>>().WithSummary("Projects, sorted by name unless asked otherwise.");

        api.MapGet("/projects/{projectId:long}", async (long projectId, HttpContext http, ProjectService projects, CancellationToken ct) =>
            Json(http, ToDetail(await projects.GetAsync(projectId, ct))))
            .RequireScope(ApiScopes.Read).Produces<ApiProjectDetail>().WithSummary("A project with its paper and claims.");

        api.MapGet("/projects/{projectId:long}/claims", async (long projectId, HttpContext http, ProjectService projects, CancellationToken ct) =>
            Json(http, ToDetail(await projects.GetAsync(projectId, ct)).Claims))
            .RequireScope(ApiScopes.Read).Produces<IReadOnlyList<ApiClaim>>().WithSummary("The paper's claims: metric, dataset, split, value, source.");
    }

    private static ApiProjectDetail ToDetail(Project p) => new(p.Id, p.Name, p.Summary, p.PaperTitle, p.PaperAuthors, p.PaperYear, p.PaperUrl,
        p.Tolerance, p.Stage, p.ClaimLimitPerMember, p.LostRunRestarts, p.IsDemo,
        p.Claims.OrderBy(c => c.Id).Select(c => new ApiClaim(c.Id, c.Metric, c.Dataset, c.Split, c.Value, c.Source)).ToList());

    private static void MapTasks(RouteGroupBuilder api)
    {
        api.MapGet("/projects/{projectId:long}/tasks", async (long projectId, HttpContext http, TaskBoard board, string? status, string? stage,
            string? component, bool? mine, string? search, string? sort, int? limit, int? page, CancellationToken ct) =>
        {
            var filter = new BoardFilter(mine ?? false, ParseEnum<ReproductionStage>(stage, "stage"), ParseEnum<ModelComponent>(component, "component"),
                null, ParseEnum<ProjectTaskStatus>(status, "status"), search);
            var view = await board.GetAsync(ActorOf(http), projectId, filter, ct);
            var rows = SortTasks(view.Rows.Select(r => ToTask(projectId, r)), sort);
            return Json(http, Page(http, rows, limit, page));
        }).RequireScope(ApiScopes.Read).Produces<ApiPage<ApiTask>>()
            .WithSummary("A project's tasks; filters status, stage, component, mine, search; sort status (the board's order), id, -id, title.");

        api.MapGet("/tasks", async (HttpContext http, ProjectService projects, TaskBoard board, string? status, bool? mine, string? sort,
            int? limit, int? page, CancellationToken ct) =>
        {
            var actor = ActorOf(http);
            var filter = new BoardFilter(mine ?? false, Status: ParseEnum<ProjectTaskStatus>(status, "status"));
            var rows = new List<ApiTask>();
            foreach (var project in await projects.ListAsync(ct))
                rows.AddRange((await board.GetAsync(actor, project.Id, filter, ct)).Rows.Select(r => ToTask(project.Id, r)));
            return Json(http, Page(http, SortTasks(rows, sort ?? "id"), limit, page));
        }).RequireScope(ApiScopes.Read).Produces<ApiPage<ApiTask>>().WithSummary("Tasks of every project; mine=true for the token user's own.");

        api.MapGet("/tasks/{taskId:long}", async (long taskId, HttpContext http, TaskBoard board, CancellationToken ct) =>
            Json(http, await GetTaskAsync(board, taskId, ct)))
            .RequireScope(ApiScopes.Read).Produces<ApiTask>().WithSummary("One task.");

        MapTaskChange(api, "/tasks/{taskId:long}/claim", "Claim the task for the token's user, within the project's limit.",
            (claims, actor, taskId, _, ct) => claims.ClaimAsync(actor, taskId, ct));
        MapTaskChange(api, "/tasks/{taskId:long}/unclaim", "Give the task back (its holder or a lead).",
            (claims, actor, taskId, _, ct) => claims.UnclaimAsync(actor, taskId, ct));

        api.MapPost("/tasks/{taskId:long}/move", async (long taskId, MoveTaskRequest body, HttpContext http, TaskBoard board, TaskClaims claims,
            CancellationToken ct) =>
        {
            var to = ParseEnum<ProjectTaskStatus>(body.To, "to") ?? throw PortalError.Validation("Say where the task moves: to is InReview, Done or Open.");
            await RequireMatchAsync(http, () => GetTaskAsync(board, taskId, ct));
            var actor = ActorOf(http);
            await (to switch
            {
                ProjectTaskStatus.InReview => claims.SubmitForReviewAsync(actor, taskId, ct),
                ProjectTaskStatus.Done => claims.CompleteAsync(actor, taskId, ct),
                ProjectTaskStatus.Open => claims.UnclaimAsync(actor, taskId, ct),
                _ => claims.ClaimAsync(actor, taskId, ct),
            });
            return Json(http, await GetTaskAsync(board, taskId, ct));
        }).RequireScope(ApiScopes.Tasks).RequireIfMatch("/tasks/{taskId}").Produces<ApiTask>().ProducesProblem(400).ProducesProblem(404).ProducesProblem(409)
            .WithSummary("Move a task: to Claimed, InReview, Done or Open, as the task rules allow the token's user.");

        api.MapPost("/tasks/{taskId:long}/assign", async (long taskId, AssignTaskRequest body, HttpContext http, TaskBoard board, TaskClaims claims,
            IDbContextFactory<PortalDbContext> dbFactory, CancellationToken ct) =>
        {
            var userId = body.UserId;
            if (string.IsNullOrWhiteSpace(userId))
            {
                if (string.IsNullOrWhiteSpace(body.UserName)) throw PortalError.Validation("Name the assignee: userId or userName.");
                await using var db = await dbFactory.CreateDbContextAsync(ct);
                var normalized = body.UserName.Trim().ToUpperInvariant();
                userId = await db.Users.Where(u => u.NormalizedUserName == normalized).Select(u => u.Id).FirstOrDefaultAsync(ct)
                         ?? throw PortalError.NotFound($"There is no user '{body.UserName}'.");
            }
            await RequireMatchAsync(http, () => GetTaskAsync(board, taskId, ct));
            await claims.AssignAsync(ActorOf(http), taskId, userId, ct);
            return Json(http, await GetTaskAsync(board, taskId, ct));
        }).RequireScope(ApiScopes.Tasks).RequireIfMatch("/tasks/{taskId}").Produces<ApiTask>().ProducesProblem(400).ProducesProblem(404).ProducesProblem(409)
            .WithSummary("A lead assigns the task to a member or lead (by userId or userName).");
    }

    private static void MapTaskChange(RouteGroupBuilder api, string pattern, string summary,
        Func<TaskClaims, Actor, long, HttpContext, CancellationToken, Task> change) =>
        api.MapPost(pattern, async (long taskId, HttpContext http, TaskBoard board, TaskClaims claims, CancellationToken ct) =>
        {
            await RequireMatchAsync(http, () => GetTaskAsync(board, taskId, ct));
            await change(claims, ActorOf(http), taskId, http, ct);
            return Json(http, await GetTaskAsync(board, taskId, ct));
        }).RequireScope(ApiScopes.Tasks).RequireIfMatch("/tasks/{taskId}").Produces<ApiTask>().ProducesProblem(404).ProducesProblem(409).WithSummary(summary);

    private static async Task<ApiTask> GetTaskAsync(TaskBoard board, long taskId, CancellationToken ct)
    {
        var t = await board.GetTaskAsync(taskId, ct);
        return new ApiTask(t.Id, t.ProjectId, t.Title, t.Stage, t.Component, t.EstimateHours, t.Status, t.AssigneeId, t.AssigneeName, t.Version);
    }

    private static ApiTask ToTask(long projectId, BoardRow r) =>
        new(r.Id, projectId, r.Title, r.Stage, r.Component, r.EstimateHours, r.Status, r.AssigneeId, r.AssigneeName, r.Version);

    private static List<ApiTask> SortTasks(IEnumerable<ApiTask> rows, string? sort) => (sort ?? "status") switch
    {
        "status" => rows.OrderBy(t => t.Status).ThenBy(t => t.Stage).ThenBy(t => t.Component).ThenBy(t => t.Id).ToList(),
        "id" => rows.OrderBy(t => t.Id).ToList(),
        "-id" => rows.OrderByDescending(t => t.Id).ToList(),
        "title" => rows.OrderBy(t => t.Title, StringComparer.Ordinal).ThenBy(t => t.Id).ToList(),
        _ => throw PortalError.Validation($"sort '{sort}' is not one of: status, id, -id, title."),
    };

    private static void MapRuns(RouteGroupBuilder api)
    {
        api.MapGet("/projects/{projectId:long}/runs", async (long projectId, HttpContext http, RunService runs, string? status, string? recipe,
            string? commit, string? startedBy, string? sort, int? limit, int? page) =>
        {
            var wanted = ParseEnum<RunStatus>(status, "status");
            IEnumerable<RunRow> rows = await runs.ListAsync(projectId);
            if (wanted is { } s) rows = rows.Where(r => r.Status == s);
            if (!string.IsNullOrWhiteSpace(recipe)) rows = rows.Where(r => r.Recipe == recipe.Trim());
            if (!string.IsNullOrWhiteSpace(commit)) rows = rows.Where(r => r.Commit is not null && r.Commit.StartsWith(commit.Trim().ToLowerInvariant(), StringComparison.Ordinal));
            if (!string.IsNullOrWhiteSpace(startedBy)) rows = rows.Where(r => r.StartedBy.Equals(startedBy.Trim(), StringComparison.OrdinalIgnoreCase));
            rows = (sort ?? "-id") switch
            {
                "-id" => rows.OrderByDescending(r => r.Id),
                "id" => rows.OrderBy(r => r.Id),
                "queuedAt" => rows.OrderBy(r => r.QueuedAt).ThenBy(r => r.Id),
                "-queuedAt" => rows.OrderByDescending(r => r.QueuedAt).ThenByDescending(r => r.Id),
                "status" => rows.OrderBy(r => r.Status).ThenByDescending(r => r.Id),
                _ => throw PortalError.Validation($"sort '{sort}' is not one of: -id, id, queuedAt, -queuedAt, status."),
            };
            var items = rows.Select(r => new ApiRunSummary(r.Id, r.Recipe, r.Status, r.StartedBy, r.Agent, r.QueuedAt, r.EndedAt, r.LastStep, r.Commit,
                Finals(r.FinalMetrics))).ToList();
            return Json(http, Page(http, items, limit, page));
        }).RequireScope(ApiScopes.Read).Produces<ApiPage<ApiRunSummary>>()
            .WithSummary("A project's runs, newest first; filters status, recipe, commit (prefix), startedBy (display name).");

        api.MapPost("/projects/{projectId:long}/runs", async (long projectId, QueueRunRequest body, HttpContext http, RunService runs) =>
        {
            var config = body.Config switch
            {
                null => "",
                { ValueKind: JsonValueKind.Object } o => o.GetRawText(),
                { ValueKind: JsonValueKind.String } s => s.GetString() ?? "",
                { ValueKind: JsonValueKind.Null } => "",
                _ => throw PortalError.Validation("config is a JSON object (or a string holding one)."),
            };
            var seeds = body.Seeds is { Count: > 0 } list ? list : [body.Seed ?? 0];
            if (body.Seeds is { Count: > 0 } && body.Seed is not null) throw PortalError.Validation("Give either seed or seeds, not both.");
            if (seeds.Count > MaxSeedsPerRequest) throw PortalError.Validation($"Queue at most {MaxSeedsPerRequest} seeds at once.");
            if (seeds.Distinct().Count() != seeds.Count) throw PortalError.Validation("The seeds repeat a value.");
            var actor = ActorOf(http);
            var ids = new List<long>();
            // The service checks the recipe, the config and the commit before it stores anything; with the same
            // request for every seed, the first seed's check stands for all.
            foreach (var seed in seeds)
                ids.Add(await runs.StartAsync(actor, projectId, new StartRunRequest(body.Recipe, config, seed, body.TaskId, body.Commit)));
            http.Response.Headers.Location = $"{Prefix}/runs/{ids[0]}";
            return Json(http, new ApiQueued(ids), StatusCodes.Status201Created);
        }).RequireScope(ApiScopes.Runs).Produces<ApiQueued>(StatusCodes.Status201Created).ProducesProblem(400).ProducesProblem(404)
            .WithSummary("Queue a run (or one per seed) with a recipe, its config, and the commit it trains.");

        api.MapGet("/runs/{runId:long}", async (long runId, HttpContext http, RunService runs) => Json(http, await GetRunAsync(runs, runId)))
            .RequireScope(ApiScopes.Read).Produces<ApiRun>().WithSummary("One run: state, config, final metrics and restarts.");

        api.MapPost("/runs/{runId:long}/cancel", async (long runId, HttpContext http, RunService runs) =>
        {
            await RequireMatchAsync(http, () => GetRunAsync(runs, runId));
            await runs.CancelAsync(ActorOf(http), runId);
            return Json(http, await GetRunAsync(runs, runId));
        }).RequireScope(ApiScopes.Runs).RequireIfMatch("/runs/{runId}").Produces<ApiRun>().ProducesProblem(404).ProducesProblem(409)
            .WithSummary("Cancel a queued, running or lost run (its starter or a lead).");

        api.MapPost("/runs/{runId:long}/resume", async (long runId, HttpContext http, RunService runs) =>
        {
            await RequireMatchAsync(http, () => GetRunAsync(runs, runId));
            await runs.ResumeAsync(ActorOf(http), runId);
            return Json(http, await GetRunAsync(runs, runId));
        }).RequireScope(ApiScopes.Runs).RequireIfMatch("/runs/{runId}").Produces<ApiRun>().ProducesProblem(404).ProducesProblem(409)
            .WithSummary("Queue a Lost or Failed run again from its last checkpoint (its starter or a lead).");

        api.MapGet("/runs/{runId:long}/metrics", async (long runId, HttpContext http, RunService runs, CurveService curves,
            [FromQuery(Name = "name")] string[]? names, long? from, long? to, int? maxPoints, bool? full, string? format, CancellationToken ct) =>
        {
            var metrics = await ReadMetricsAsync(runs, curves, runId, names ?? [], from, to, maxPoints, full ?? false, ct);
            var csv = (format ?? "") switch
            {
                "" => http.Request.Headers.Accept.Any(a => a?.Contains("text/csv", StringComparison.OrdinalIgnoreCase) == true),
                "json" => false,
                "csv" => true,
                _ => throw PortalError.Validation($"format '{format}' is not one of: json, csv."),
            };
            if (!csv) return Json(http, metrics);
            var text = new StringBuilder("metric,step,value,time\n");
            foreach (var s in metrics.Series)
                foreach (var p in s.Points)
                    text.Append(CsvField(s.Name)).Append(',').Append(p.Step).Append(',').Append(Csv(p.Value)).Append(',').Append(p.Time.ToString("O")).Append('\n');
            var bytes = Encoding.UTF8.GetBytes(text.ToString());
            http.Response.Headers.ETag = ETagOf(bytes);
            return Results.Bytes(bytes, "text/csv; charset=utf-8", $"run-{runId}-metrics.csv");
        }).RequireScope(ApiScopes.Read).Produces<ApiMetrics>().Produces<string>(200, "text/csv").ProducesProblem(400).ProducesProblem(404)
            .WithSummary("A run's metric series (every metric unless name= is given), downsampled to maxPoints (default 1000) keeping spikes, " +
                         "or full=true for every stored point; from/to limit the step range. JSON, or CSV with format=csv or Accept: text/csv.");

        api.MapGet("/runs/{runId:long}/logs", async (long runId, HttpContext http, RunService runs, int? limit, int? page) =>
        {
            var details = await runs.GetAsync(runId);
            var lines = details.LogTail.Select(l => new ApiLogLine(l.Id, l.At, l.Text)).ToList();
            return Json(http, Page(http, lines, limit ?? MaxLimit, page));
        }).RequireScope(ApiScopes.Read).Produces<ApiPage<ApiLogLine>>()
            .WithSummary($"The run's last {RunService.LogTailLines} log lines, oldest first.");

        api.MapGet("/runs/{runId:long}/artifacts", async (long runId, HttpContext http, RunService runs) =>
        {
            var details = await runs.GetAsync(runId);
            return Json(http, details.Artifacts.Select(a => new ApiArtifact(a.Id, a.Kind, a.FileName, a.SizeBytes, a.Sha256, a.Step, a.CreatedAt,
                $"{Prefix}/runs/{runId}/artifacts/{a.Id}")).ToList());
        }).RequireScope(ApiScopes.Read).Produces<IReadOnlyList<ApiArtifact>>().WithSummary("The run's checkpoints and configs, with their SHA-256.");

        api.MapGet("/runs/{runId:long}/artifacts/{artifactId:long}", async (long runId, long artifactId, ArtifactStore store, CancellationToken ct) =>
        {
            var (artifact, path) = await store.GetForDownloadAsync(runId, artifactId, ct);
            return Results.File(path, "application/octet-stream", artifact.FileName);
        }).RequireScope(ApiScopes.Read).Produces(200, contentType: "application/octet-stream").ProducesProblem(404).WithSummary("Download an artifact.");
    }

    private static string CsvField(string text) => text.IndexOfAny([',', '"', '\n', '\r']) < 0 ? text : "\"" + text.Replace("\"", "\"\"") + "\"";

    private static IReadOnlyDictionary<string, double?> Finals(IEnumerable<RunFinalMetric> metrics) =>
        metrics.OrderBy(m => m.Name, StringComparer.Ordinal).ToDictionary(m => m.Name, m => Finite(m.Value));

    internal static async Task<ApiRun> GetRunAsync(RunService runs, long runId)
    {
        var d = await runs.GetAsync(runId);
        var r = d.Run;
        JsonElement config;
        try { config = JsonDocument.Parse(r.ConfigJson).RootElement.Clone(); }
        catch (JsonException) { config = JsonSerializer.SerializeToElement(r.ConfigJson); }
        return new ApiRun(r.Id, r.ProjectId, d.ProjectName, r.Recipe, r.Status, r.Seed, r.Commit, r.Dataset, r.Split, d.StartedBy, d.AgentName,
            r.QueuedAt, r.StartedAt, r.EndedAt, r.LastStep, r.LastCheckpointStep, r.FailureReason, r.AutoRestarts, d.PointCount, config,
            Finals(r.FinalMetrics), (d.Restarts ?? []).Select(x => new ApiRestart(x.At, x.FromStep, x.Automatic, x.Reason)).ToList());
    }

    private static async Task<ApiMetrics> ReadMetricsAsync(RunService runs, CurveService curves, long runId, IReadOnlyList<string> names,
        long? from, long? to, int? maxPoints, bool full, CancellationToken ct)
    {
        var run = (await runs.GetAsync(runId)).Run;
        if (from < 0 || to < 0) throw PortalError.Validation("Steps start at 0.");
        if (from > to) throw PortalError.Validation($"The step range {from}-{to} is reversed.");
        if (full && maxPoints is not null) throw PortalError.Validation("Give either full=true or maxPoints, not both.");
        var budget = full ? FullResolutionMaxPoints : maxPoints ?? 1000;
        var known = (await curves.GetChartSetAsync(null, [runId], ct)).Metrics.Select(m => m.Name).ToList();
        var unknown = names.Except(known).ToList();
        if (unknown.Count > 0)
            throw PortalError.NotFound($"Run {runId} has no metric {string.Join(", ", unknown.Select(n => $"'{n}'"))}; it has: {string.Join(", ", known)}.");
        var wanted = names.Count > 0 ? names.Distinct().ToList() : known;

        var series = new List<ApiSeries>();
        long lastStep = run.LastStep;
        foreach (var name in wanted)
        {
            var data = (await curves.GetSeriesAsync([runId], name, from, to, budget, ct))[0];
            lastStep = Math.Max(lastStep, data.MaxStep);
            if (full && data.Level > 0)
                throw PortalError.Validation($"'{name}' has more than {FullResolutionMaxPoints} points in that range; narrow it with from and to to read every point.");
            series.Add(new ApiSeries(name, data.Level, data.Count, data.MinStep, data.MaxStep,
                data.Steps.Select((step, i) => new ApiPoint(step, data.Values[i], DateTimeOffset.FromUnixTimeMilliseconds(data.Times[i]))).ToList()));
        }
        if (from > lastStep || to > lastStep)
            throw PortalError.Validation($"Run {runId} has reached step {lastStep}; the range {from?.ToString() ?? "start"}-{to?.ToString() ?? "end"} lies beyond it.");
        return new ApiMetrics(runId, run.Status, run.LastStep, Finals(run.FinalMetrics), series);
    }

    private static void MapReleases(RouteGroupBuilder api)
    {
        api.MapGet("/projects/{projectId:long}/releases", async (long projectId, HttpContext http, ReleaseService releases, ProjectService projects,
            int? limit, int? page, CancellationToken ct) =>
        {
            await projects.GetAsync(projectId, ct); // an unknown project is a 404, not an empty list
            var rows = (await releases.ListAsync(projectId, ct)).OrderBy(r => r.Id)
                .Select(r => new ApiReleaseSummary(r.Id, r.Name, r.Version, r.Variant, r.Status, r.GatesPassed, r.GateCount)).ToList();
            return Json(http, Page(http, rows, limit, page));
        }).RequireScope(ApiScopes.Read).Produces<ApiPage<ApiReleaseSummary>>().WithSummary("A project's releases with how many gates pass.");

        api.MapGet("/releases/{releaseId:long}", async (long releaseId, HttpContext http, ReleaseService releases, CancellationToken ct) =>
            Json(http, await GetReleaseAsync(releases, releaseId, ct)))
            .RequireScope(ApiScopes.Read).Produces<ApiRelease>().WithSummary("A release: its gates with reasons and evidence, the claims, and the sign-off state.");

        api.MapGet("/releases/{releaseId:long}/gates", async (long releaseId, HttpContext http, ReleaseService releases, CancellationToken ct) =>
            Json(http, (await GetReleaseAsync(releases, releaseId, ct)).Gates))
            .RequireScope(ApiScopes.Read).Produces<IReadOnlyList<ApiGate>>().WithSummary("The release's gates as computed now, each with its reasons and evidence link.");

        api.MapPut("/releases/{releaseId:long}/runs", async (long releaseId, ChooseRunsRequest body, HttpContext http, ReleaseService releases,
            CancellationToken ct) =>
        {
            if (body.RunIds is null) throw PortalError.Validation("runIds is required (an empty list chooses no runs).");
            await RequireMatchAsync(http, () => GetReleaseAsync(releases, releaseId, ct));
            await releases.ChooseRunsAsync(ActorOf(http), releaseId, body.RunIds, ct);
            return Json(http, await GetReleaseAsync(releases, releaseId, ct));
        }).RequireScope(ApiScopes.Releases).RequireIfMatch("/releases/{releaseId}").Produces<ApiRelease>().ProducesProblem(400).ProducesProblem(404).ProducesProblem(409)
            .WithSummary("A lead chooses the runs a draft release is judged on; approvals made on other evidence are cleared.");
    }

    private static async Task<ApiRelease> GetReleaseAsync(ReleaseService releases, long releaseId, CancellationToken ct)
    {
        var v = await releases.GetAsync(releaseId, ct);
        var r = v.Release;
        var signOff = v.Gates.FirstOrDefault(g => g.Kind == GateKind.SignOff);
        var decisions = v.Decisions.Select(d => new ApiDecision(d.LeadName, d.Decision, d.Reason, d.Fingerprint, d.At, d.ClearedAt is null)).ToList();
        return new ApiRelease(r.Id, r.ProjectId, r.Name, r.Version, r.Variant, r.Commit, r.Status, v.Fingerprint, v.AllGatesPass,
            v.Gates.Select(g => new ApiGate(g.Kind, g.Title, g.Passed, g.Summary, g.Details, g.EvidenceLink)).ToList(),
            v.Claims.Select(c => new ApiClaimResult(c.Claim.Metric, c.Claim.Dataset, c.Claim.Split, c.Claim.Value, c.Mean, c.Gap, c.Within, c.Tolerance,
                c.Counted.Select(x => x.RunId).ToList())).ToList(),
            new ApiSignOff(r.RequiredApprovals, decisions.Count(d => d.Decision == ReleaseDecision.Approve && d.Standing), signOff?.Passed ?? false, decisions),
            r.Runs.Select(x => x.RunId).Order().ToList());
    }
}
