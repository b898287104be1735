using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Web.Data;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Runs;

/// <summary>
/// Marks a running run Lost when its agent has not confirmed it for <see cref="RunsOptions.LostAfter"/>. Time the
/// portal itself was down does not count: the clock starts again when the portal starts, so agents get the whole
/// window to reconnect after a restart.
/// </summary>
public sealed class LostRunMonitor(IDbContextFactory<PortalDbContext> dbFactory, IOptions<RunsOptions> options, LiveUpdates live,
    TimeProvider clock, LostRunRestarts restarts, DatabaseStartup startup, ILogger<LostRunMonitor> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await startup.WaitAsync(stoppingToken); // a database unreachable at start-up has no tables yet
            var startedAt = clock.GetUtcNow();
            await MarkAgentsDisconnectedAsync(stoppingToken);
            var period = TimeSpan.FromSeconds(Math.Clamp(options.Value.LostAfterSeconds / 6, 0.2, 5));
            using var timer = new PeriodicTimer(period, clock);
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try { await SweepAsync(startedAt, stoppingToken); }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogError(e, "Looking for lost runs failed; trying again at the next tick");
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The portal is stopping.
        }
    }

    private async Task MarkAgentsDisconnectedAsync(CancellationToken cancellationToken)
    {
        // Nobody is connected to a portal that just started; but when instances share the database (Redis
        // configured), the other instances' agents are, so the flag is left to their connections.
        if (live.Remote is not null) return;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.Agents.Where(a => a.IsConnected).ExecuteUpdateAsync(s => s.SetProperty(a => a.IsConnected, false), cancellationToken);
    }

    internal async Task SweepAsync(DateTimeOffset startedAt, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var limit = now - options.Value.LostAfter;
        if (startedAt > limit) return;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        // DateTimeOffsets are stored as sortable integers, but the few running runs are simplest filtered here.
        var running = await db.Runs.Where(r => r.Status == RunStatus.Running).ToListAsync(cancellationToken);
        var lost = running.Where(r => (r.LastHeartbeatAt ?? r.StartedAt ?? r.QueuedAt) < limit).ToList();
        if (lost.Count == 0) return;
        foreach (var run in lost)
        {
            run.Status = RunStatus.Lost;
            run.EndedAt = now;
            run.FailureReason = $"No heartbeat from its agent for {options.Value.LostAfterSeconds:0.#} s.";
            run.Version++;
            db.RunLogLines.Add(new RunLogLine { RunId = run.Id, At = now, Text = $"[portal] Lost: {run.FailureReason}" });
        }
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            return; // a run changed meanwhile (finished, cancelled): the next tick looks again
        }
        foreach (var run in lost)
        {
            logger.LogWarning("Run {Run} is lost: {Reason}", run.Id, run.FailureReason);
            live.Publish(Topics.Run(run.Id), Topics.Project(run.ProjectId));
        }
        live.Publish(Topics.Agents);
        await restarts.RestartAsync(lost.Select(r => r.Id).ToList(), cancellationToken);
    }
}
