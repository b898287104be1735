using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using Portal.Contracts;
using Portal.Web.Data;
using Portal.Web.Features.Agents;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Runs;

/// <summary>What agents do to runs: take a queued one, log, report checkpoints, finish. Each call checks the run is theirs.</summary>
public sealed class RunDispatch(
    IDbContextFactory<PortalDbContext> dbFactory,
    IHubContext<AgentHub, IAgentClient> hub,
    LiveUpdates live,
    TimeProvider clock,
    ILogger<RunDispatch> logger)
{
    public const int MaxLogLinesPerCall = 1_000;
    public const int MaxLogLineLength = 4_000;

    public async Task<JobAssignment?> TakeJobAsync(long agentId)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            await using var db = await dbFactory.CreateDbContextAsync();
            var agent = await db.Agents.FindAsync(agentId) ?? throw PortalError.NotFound("This agent is not registered.");
            var running = await db.Runs.CountAsync(r => r.AgentId == agentId && r.Status == RunStatus.Running);
            if (running >= agent.MaxConcurrentJobs) return null;
            var run = await db.Runs.Where(r => r.Status == RunStatus.Queued).OrderBy(r => r.QueuedAt).ThenBy(r => r.Id).FirstOrDefaultAsync();
            if (run is null) return null;

            var now = clock.GetUtcNow();
            run.Status = RunStatus.Running;
            run.AgentId = agentId;
            run.StartedAt ??= now;
            run.LastHeartbeatAt = now;
            run.HardwareJson = JsonSerializer.Serialize(new AgentHardware(agent.CpuCores, agent.MemoryBytes, agent.GpuName,
                agent.GpuMemoryBytes, agent.CudaAvailable, agent.TorchVersion, agent.Os));
            run.Version++;
            db.RunLogLines.Add(new RunLogLine
            {
                RunId = run.Id, At = now,
                Text = run.ResumeFromStep is { } step
                    ? $"[portal] Taken by agent {agent.Name}; resuming from the checkpoint at step {step}."
                    : $"[portal] Taken by agent {agent.Name}.",
            });
            try
            {
                await db.SaveChangesAsync();
            }
            catch (DbUpdateConcurrencyException)
            {
                continue; // another agent took it first: try the next one
            }
            logger.LogInformation("Run {Run} taken by agent {Agent}", run.Id, agent.Name);
            live.Publish(Topics.Run(run.Id), Topics.Project(run.ProjectId), Topics.Agents);
            return new JobAssignment(run.Id, run.Recipe, run.ConfigJson, run.Seed, run.ResumeFromStep);
        }
        return null;
    }

    public async Task AppendLogAsync(long agentId, RunLogLines lines)
    {
        if (lines.Lines is null || lines.Lines.Count == 0) return;
        if (lines.Lines.Count > MaxLogLinesPerCall) throw PortalError.Validation($"At most {MaxLogLinesPerCall} log lines per call.");
        await using var db = await dbFactory.CreateDbContextAsync();
        var run = await OwnRunAsync(db, agentId, lines.RunId);
        var now = clock.GetUtcNow();
        foreach (var line in lines.Lines)
            db.RunLogLines.Add(new RunLogLine { RunId = run.Id, At = now, Text = line.Length <= MaxLogLineLength ? line : line[..MaxLogLineLength] + " …" });
        await db.SaveChangesAsync();
        live.Publish(Topics.Run(run.Id));
    }

    /// <summary>A line the portal itself writes into a run's log (bad points, state changes).</summary>
    public async Task PortalLogAsync(long runId, string text)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        db.RunLogLines.Add(new RunLogLine { RunId = runId, At = clock.GetUtcNow(), Text = "[portal] " + text });
        await db.SaveChangesAsync();
        live.Publish(Topics.Run(runId));
    }

    public async Task CheckpointSavedAsync(long agentId, CheckpointInfo checkpoint)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        var run = await OwnRunAsync(db, agentId, checkpoint.RunId);
        var sha = (checkpoint.Sha256 ?? "").ToLowerInvariant();
        var stored = await db.RunArtifacts.AnyAsync(a => a.RunId == run.Id && a.Kind == ArtifactKinds.Checkpoint && a.Sha256 == sha && a.Step == checkpoint.Step);
        if (!stored)
            throw PortalError.Validation($"No uploaded checkpoint of run {run.Id} at step {checkpoint.Step} with that SHA-256: upload it first.");
        if (run.LastCheckpointStep is null || checkpoint.Step > run.LastCheckpointStep)
        {
            run.LastCheckpointStep = checkpoint.Step;
            await db.SaveChangesAsync();
        }
        live.Publish(Topics.Run(run.Id));
    }

    public async Task FinishAsync(long agentId, RunOutcome outcome)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        var run = await OwnRunAsync(db, agentId, outcome.RunId);
        await db.Entry(run).Collection(r => r.FinalMetrics).LoadAsync();
        var now = clock.GetUtcNow();
        if (run.Status is RunStatus.Running or RunStatus.Lost)
        {
            run.Status = outcome.Status switch
            {
                RunOutcomeStatus.Succeeded => RunStatus.Succeeded,
                RunOutcomeStatus.Cancelled => RunStatus.Cancelled,
                _ => RunStatus.Failed,
            };
            run.EndedAt = now;
        }
        else if (run.Status is RunStatus.Succeeded or RunStatus.Failed)
        {
            return; // delivered twice: the first report stands
        }
        run.FailureReason = outcome.Error is { Length: > 0 } e ? (e.Length <= 4000 ? e : e[..4000]) : run.FailureReason;
        run.LastStep = Math.Max(run.LastStep, outcome.LastStep);
        foreach (var (name, value) in outcome.FinalMetrics ?? new Dictionary<string, double>())
        {
            if (string.IsNullOrWhiteSpace(name) || name.Length > MetricIngestion.MaxNameLength) continue;
            var metric = run.FinalMetrics.FirstOrDefault(m => m.Name == name);
            if (metric is null) run.FinalMetrics.Add(new RunFinalMetric { Name = name, Value = value });
            else metric.Value = value;
        }
        run.Version++;
        db.RunLogLines.Add(new RunLogLine { RunId = run.Id, At = now, Text = $"[portal] Run finished: {run.Status}{(outcome.Error is null ? "" : $" ({outcome.Error})")}." });
        await db.SaveChangesAsync();
        logger.LogInformation("Run {Run} finished {Status}", run.Id, run.Status);
        live.Publish(Topics.Run(run.Id), Topics.Project(run.ProjectId), Topics.Agents);
    }

    /// <summary>Tells connected agents that a job is waiting.</summary>
    public Task AnnounceJobAsync() => hub.Clients.All.JobAvailable();

    /// <summary>Asks the agent that runs a run to stop it.</summary>
    public Task CancelOnAgentAsync(long agentId, long runId) => hub.Clients.Group(AgentHub.Group(agentId)).CancelRun(runId);

    private static async Task<Run> OwnRunAsync(PortalDbContext db, long agentId, long runId)
    {
        var run = await db.Runs.FindAsync(runId) ?? throw PortalError.NotFound($"Run {runId} does not exist.");
        if (run.AgentId != agentId) throw PortalError.Forbidden($"Run {runId} is not assigned to this agent.");
        return run;
    }
}

public static class ArtifactKinds
{
    public const string Checkpoint = "checkpoint";
    public const string Config = "config";
    /// <summary>A differential run's per-layer report (JSON).</summary>
    public const string Differential = "differential";
    public static readonly string[] All = [Checkpoint, Config, Differential];
}
