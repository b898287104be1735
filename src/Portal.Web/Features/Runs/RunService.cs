using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Portal.Contracts;
using Portal.Training.Recipes;
using Portal.Web.Data;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Runs;

public sealed record StartRunRequest(string Recipe, string ConfigJson, int Seed, long? TaskId, string? Commit);

public sealed record RunRow(long Id, string Recipe, RunStatus Status, string StartedBy, string? Agent, DateTimeOffset QueuedAt,
    DateTimeOffset? EndedAt, long LastStep, string? Commit, IReadOnlyList<RunFinalMetric> FinalMetrics, RunProgress Progress);

public sealed record RunDetails(Run Run, string ProjectName, string StartedBy, string? AgentName, AgentHardware? Hardware,
    IReadOnlyList<RunLogLine> LogTail, IReadOnlyList<RunArtifact> Artifacts, long PointCount, IReadOnlyList<RunRefusal> Refusals,
    RunProgress Progress, IReadOnlyList<RunRestart>? Restarts = null)
{
    public bool CanCancel => Run.Status is RunStatus.Queued or RunStatus.Running or RunStatus.Lost;
    public bool CanResume => Run.Status is RunStatus.Lost or RunStatus.Failed && Run.LastCheckpointStep is not null;
}

/// <summary>Members start, cancel and resume runs; everyone signed in can read them.</summary>
public sealed partial class RunService(IDbContextFactory<PortalDbContext> dbFactory, RunDispatch dispatch, IEnumerable<IRunPointsDerived> derived,
    LiveUpdates live, TimeProvider clock)
{
    public const int LogTailLines = 200;
    public const int MaxConfigLength = 64_000;

    public static IReadOnlyList<RecipeInfo> Recipes => RecipeCatalog.All;

    public async Task<long> StartAsync(Actor actor, long projectId, StartRunRequest request)
    {
        actor = await dbFactory.RefreshAsync(actor);
        if (!actor.IsMember && !actor.IsLead) throw PortalError.Forbidden("Only team members and leads can start runs.");
        await using var db = await dbFactory.CreateDbContextAsync();
        var project = await db.Projects.FindAsync(projectId) ?? throw PortalError.NotFound("That project does not exist.");
        var recipe = RecipeCatalog.Find(request.Recipe ?? "")
                     ?? throw PortalError.Validation($"Unknown recipe '{request.Recipe}'. Known recipes: {string.Join(", ", RecipeCatalog.All.Select(r => r.Name))}.", nameof(StartRunRequest.Recipe));
        var config = string.IsNullOrWhiteSpace(request.ConfigJson) ? recipe.DefaultConfigJson : request.ConfigJson;
        if (config.Length > MaxConfigLength) throw PortalError.Validation($"The config is longer than {MaxConfigLength} characters.", nameof(StartRunRequest.ConfigJson));
        var errors = RecipeCatalog.Validate(recipe.Name, config);
        if (errors.Count > 0) throw PortalError.Validation(string.Join(" ", errors.Select(e => e.StartsWith("config is not valid", StringComparison.Ordinal) ? "The c" + e[1..] : e)), nameof(StartRunRequest.ConfigJson));
        var commit = string.IsNullOrWhiteSpace(request.Commit) ? null : request.Commit.Trim().ToLowerInvariant();
        if (commit is not null && !CommitPattern().IsMatch(commit))
            throw PortalError.Validation("A commit is a git hash of 7 to 40 hexadecimal characters.", nameof(StartRunRequest.Commit));
        if (request.TaskId is { } taskId && !await db.Tasks.AnyAsync(t => t.Id == taskId && t.ProjectId == projectId))
            throw PortalError.Validation("That task is not a task of this project.", nameof(StartRunRequest.TaskId));

        var run = new Run
        {
            ProjectId = project.Id,
            Recipe = recipe.Name,
            ConfigJson = config,
            Seed = request.Seed,
            TaskId = request.TaskId,
            Commit = commit,
            Dataset = recipe.Dataset,
            Split = recipe.Split,
            StartedById = actor.UserId,
            QueuedAt = clock.GetUtcNow(),
        };
        db.Runs.Add(run);
        await db.SaveChangesAsync();
        live.Publish(Topics.Project(projectId), Topics.Run(run.Id));
        await dispatch.AnnounceJobAsync();
        return run.Id;
    }

    public async Task<IReadOnlyList<RunRow>> ListAsync(long projectId)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        if (!await db.Projects.AnyAsync(p => p.Id == projectId)) throw PortalError.NotFound("That project does not exist.");
        var rows = await (from r in db.Runs.Include(r => r.FinalMetrics)
                          where r.ProjectId == projectId
                          join u in db.Users on r.StartedById equals u.Id into starters
                          from u in starters.DefaultIfEmpty()
                          join a in db.Agents on r.AgentId equals a.Id into agents
                          from a in agents.DefaultIfEmpty()
                          select new { r, StartedBy = u == null ? "" : u.DisplayName, Agent = a == null ? null : a.Name })
            .AsNoTracking().ToListAsync();
        var list = new List<RunRow>(rows.Count);
        foreach (var x in rows.OrderByDescending(x => x.r.Id))
            list.Add(new RunRow(x.r.Id, x.r.Recipe, x.r.Status, x.StartedBy, x.Agent, x.r.QueuedAt, x.r.EndedAt, x.r.LastStep, x.r.Commit,
                x.r.FinalMetrics, await ProgressAsync(db, x.r)));
        return list;
    }

    public async Task<RunDetails> GetAsync(long runId)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        var run = await db.Runs.Include(r => r.FinalMetrics).AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId)
                  ?? throw PortalError.NotFound("That run does not exist.");
        var project = await db.Projects.Where(p => p.Id == run.ProjectId).Select(p => p.Name).FirstAsync();
        var startedBy = await db.Users.Where(u => u.Id == run.StartedById).Select(u => u.DisplayName).FirstOrDefaultAsync() ?? "";
        var agent = run.AgentId is { } agentId ? await db.Agents.Where(a => a.Id == agentId).Select(a => a.Name).FirstOrDefaultAsync() : null;
        var tail = await db.RunLogLines.Where(l => l.RunId == runId).OrderByDescending(l => l.Id).Take(LogTailLines).AsNoTracking().ToListAsync();
        tail.Reverse();
        var artifacts = await db.RunArtifacts.Where(a => a.RunId == runId).OrderBy(a => a.Id).AsNoTracking().ToListAsync();
        var points = await db.MetricPoints.LongCountAsync(p => p.RunId == runId);
        var hardware = run.HardwareJson is null ? null : JsonSerializer.Deserialize<AgentHardware>(run.HardwareJson);
        var refusals = await db.RunRefusals.Where(r => r.RunId == runId).OrderByDescending(r => r.LastAt).ThenByDescending(r => r.Id).AsNoTracking().ToListAsync();
        var restarts = await db.RunRestarts.Where(r => r.RunId == runId).OrderBy(r => r.Id).AsNoTracking().ToListAsync();
        return new RunDetails(run, project, startedBy, agent, hardware, tail, artifacts, points, refusals, await ProgressAsync(db, run), restarts);
    }

    /// <summary>A run's progress; only a running run's recent points are read, for its time left.</summary>
    private static async Task<RunProgress> ProgressAsync(PortalDbContext db, Run run) =>
        RunProgress.Of(run.Status, run.LastStep, RunProgress.TotalStepsOf(run.Recipe, run.ConfigJson),
            run.Status == RunStatus.Running ? await RunProgress.RecentSamplesAsync(db, run.Id) : []);

    public async Task CancelAsync(Actor actor, long runId)
    {
        actor = await dbFactory.RefreshAsync(actor);
        await using var db = await dbFactory.CreateDbContextAsync();
        var run = await db.Runs.FindAsync(runId) ?? throw PortalError.NotFound("That run does not exist.");
        RequireStarterOrLead(actor, run, "cancel");
        if (run.IsFinished && run.Status != RunStatus.Lost) throw PortalError.Conflict($"The run is already {run.Status}.");
        var agentId = run.Status == RunStatus.Running ? run.AgentId : null;
        run.Status = RunStatus.Cancelled;
        run.EndedAt = clock.GetUtcNow();
        run.Version++;
        db.RunLogLines.Add(new RunLogLine { RunId = run.Id, At = run.EndedAt.Value, Text = $"[portal] Cancelled by {actor.DisplayName}." });
        await SaveOrConflictAsync(db);
        // The state is stored first, so an agent that misses this push is told again at its next heartbeat.
        if (agentId is { } id) await dispatch.CancelOnAgentAsync(id, runId);
        live.Publish(Topics.Run(runId), Topics.Project(run.ProjectId), Topics.Agents);
    }

    /// <summary>
    /// Queues a Lost or Failed run again from its last checkpoint. Points after the checkpoint's step are removed
    /// first, so that the resumed training replaces them rather than adding a second copy.
    /// </summary>
    public async Task ResumeAsync(Actor actor, long runId)
    {
        actor = await dbFactory.RefreshAsync(actor);
        await using var db = await dbFactory.CreateDbContextAsync();
        var run = await db.Runs.Include(r => r.FinalMetrics).FirstOrDefaultAsync(r => r.Id == runId)
                  ?? throw PortalError.NotFound("That run does not exist.");
        RequireStarterOrLead(actor, run, "resume");
        if (run.Status is not (RunStatus.Lost or RunStatus.Failed))
            throw PortalError.Conflict($"Only a Lost or Failed run can be resumed; this one is {run.Status}.");
        if (run.LastCheckpointStep is not { } step)
            throw PortalError.Conflict("The run has no checkpoint to resume from; start a new run instead.");

        await using var transaction = await db.Database.BeginTransactionAsync();
        var now = clock.GetUtcNow();
        try
        {
            await RunRequeue.FromCheckpointAsync(db, derived, run, step, now,
                new RunRestart { RunId = run.Id, At = now, FromStep = step, ByUserId = actor.UserId, Reason = Notes.Cap(run.FailureReason ?? run.Status.ToString(), RunRestart.MaxReasonLength) },
                $"[portal] {actor.DisplayName} resumed the run from the checkpoint at step {step}.", CancellationToken.None);
        }
        catch (DbUpdateConcurrencyException)
        {
            throw PortalError.Conflict("The run changed at the same moment; look at it again and retry.");
        }
        await transaction.CommitAsync();
        live.Publish(Topics.Run(runId), Topics.Project(run.ProjectId));
        await dispatch.AnnounceJobAsync();
    }

    private static void RequireStarterOrLead(Actor actor, Run run, string action)
    {
        if (run.StartedById != actor.UserId && !actor.IsLead)
            throw PortalError.Forbidden($"Only the person who started the run or a lead can {action} it.");
    }

    private static async Task SaveOrConflictAsync(PortalDbContext db)
    {
        try { await db.SaveChangesAsync(); }
        catch (DbUpdateConcurrencyException)
        {
            throw PortalError.Conflict("The run changed at the same moment; look at it again and retry.");
        }
    }

    [GeneratedRegex("^[0-9a-f]{7,40}$")]
    private static partial Regex CommitPattern();
}
