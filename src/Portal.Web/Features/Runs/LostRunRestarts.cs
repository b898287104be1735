using Microsoft.EntityFrameworkCore;
using Portal.Web.Data;
using Portal.Web.Features.Activity;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Runs;

/// <summary>
/// The project's policy for runs that go Lost: each is queued again from its last checkpoint, for any free agent,
/// up to the project's <see cref="Projects.Project.LostRunRestarts"/> times; after that it stays Lost, with every
/// restart and its reason in its history. The Lost watchdog calls this once it has stored the runs as Lost.
/// </summary>
public sealed class LostRunRestarts(
    IDbContextFactory<PortalDbContext> dbFactory, IEnumerable<IRunPointsDerived> derived, RunDispatch dispatch, ActivityLog activity, LiveUpdates live, TimeProvider clock,
    ILogger<LostRunRestarts> logger)
{
    /// <summary>Restarts those of <paramref name="runIds"/> that are still Lost and under their project's limit; returns how many.</summary>
    public async Task<int> RestartAsync(IReadOnlyCollection<long> runIds, CancellationToken cancellationToken = default)
    {
        var restarted = 0;
        foreach (var runId in runIds)
        {
            try
            {
                if (await RestartOneAsync(runId, cancellationToken)) restarted++;
            }
            catch (DbUpdateConcurrencyException)
            {
                // The run changed meanwhile (its agent came back, someone cancelled or resumed it): nothing to do.
            }
        }
        if (restarted > 0) await dispatch.AnnounceJobAsync();
        return restarted;
    }

    private async Task<bool> RestartOneAsync(long runId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var run = await db.Runs.Include(r => r.FinalMetrics).FirstOrDefaultAsync(r => r.Id == runId, cancellationToken);
        if (run is not { Status: RunStatus.Lost }) return false;
        var limit = await db.Projects.Where(p => p.Id == run.ProjectId).Select(p => p.LostRunRestarts).FirstAsync(cancellationToken);
        var reason = run.FailureReason ?? "its agent fell silent";
        var now = clock.GetUtcNow();

        string? refusal = null;
        if (run.AutoRestarts >= limit)
            refusal = limit == 0
                ? "The project restarts no Lost run automatically; it stays Lost."
                : $"Not restarted automatically: it was restarted {run.AutoRestarts} time(s), the project's limit; it stays Lost.";
        else if (run.LastCheckpointStep is null)
            refusal = "Not restarted automatically: it has no checkpoint to resume from; it stays Lost.";
        if (refusal is not null)
        {
            db.RunLogLines.Add(new RunLogLine { RunId = run.Id, At = now, Text = "[portal] " + refusal });
            activity.Add(db, run.ProjectId, run.StartedById, $"run #{run.Id} was lost ({reason}) and stays Lost: {refusal}", ActivityLinks.Run(run.Id));
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            live.Publish(Topics.Run(run.Id), Topics.Project(run.ProjectId));
            return false;
        }

        var step = run.LastCheckpointStep!.Value;
        run.AutoRestarts++;
        var text = $"restarted automatically from the checkpoint at step {step} (restart {run.AutoRestarts} of {limit}) after it was lost: {reason}";
        await RunRequeue.FromCheckpointAsync(db, derived, run, step, now, new RunRestart
        {
            RunId = run.Id, At = now, FromStep = step, Automatic = true, Reason = Notes.Cap(reason, RunRestart.MaxReasonLength),
        }, $"[portal] Run {text}", cancellationToken);
        activity.Add(db, run.ProjectId, run.StartedById, $"run #{run.Id} {text}", ActivityLinks.Run(run.Id));
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        logger.LogWarning("Run {Run} restarted automatically from step {Step} ({Count} of {Limit})", run.Id, step, run.AutoRestarts, limit);
        live.Publish(Topics.Run(run.Id), Topics.Project(run.ProjectId));
        return true;
    }
}

/// <summary>
/// Queues a Lost or Failed run again from a checkpoint, for the manual Resume and the automatic restart alike. Points
/// after the checkpoint's step are removed so the resumed training replaces them rather than adding a second copy.
/// The caller holds the transaction and saves anything it adds afterwards.
/// </summary>
internal static class RunRequeue
{
    public static async Task FromCheckpointAsync(PortalDbContext db, IEnumerable<IRunPointsDerived> derived, Run run, long step, DateTimeOffset now, RunRestart restart, string logText,
        CancellationToken cancellationToken)
    {
        run.Status = RunStatus.Queued;
        run.AgentId = null;
        run.ResumeFromStep = step;
        run.LastStep = step;
        run.EndedAt = null;
        run.FailureReason = null;
        run.QueuedAt = now;
        run.FinalMetrics.Clear();
        run.Version++;
        db.RunRestarts.Add(restart);
        db.RunLogLines.Add(new RunLogLine { RunId = run.Id, At = now, Text = logText });
        await db.SaveChangesAsync(cancellationToken);
        await db.MetricPoints.Where(p => p.RunId == run.Id && p.Step > step).ExecuteDeleteAsync(cancellationToken);
        // The chart summaries assume steps only grow; the resumed run writes steps again, so they are rebuilt
        // from the remaining points on the next read.
        foreach (var d in derived) await d.ForgetRunAsync(db, run.Id);
    }
}
