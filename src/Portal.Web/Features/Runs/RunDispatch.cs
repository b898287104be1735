using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Contracts;
using Portal.Web.Data;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Runs;

/// <summary>What agents do to runs: take a queued one, log, report checkpoints, finish. Each call checks the run is theirs.</summary>
public sealed class RunDispatch(
    IDbContextFactory<PortalDbContext> dbFactory,
    IAgentCalls agents,
    LiveUpdates live,
    TimeProvider clock,
    RunRefusals refusals,
    IOptions<RunsOptions> options,
    ILogger<RunDispatch> logger)
{
    public const int MaxLogLinesPerCall = AgentProtocol.MaxLogLinesPerCall;
    public const int MaxLogLineLength = 4_000;

    public async Task<JobAssignment?> TakeJobAsync(long agentId)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            await using var db = await dbFactory.CreateDbContextAsync();
            var agent = await db.Agents.FindAsync(agentId) ?? throw PortalError.NotFound("This agent is not registered.");
            var running = await db.Runs.CountAsync(r => r.AgentId == agentId && r.Status == RunStatus.Running);
            if (running >= agent.MaxConcurrentJobs) return null;
            // An agent whose numeric self-check failed computes wrong numbers: it gets no job, whatever it asks.
            if (agent.NumericCheckStatus == NumericCheckStatus.Failed) return null;
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

    /// <summary>
    /// Stores an agent's log lines. Refused whole (nothing stored) when the run is not the agent's, is frozen, or
    /// the lines would take the run's log over <see cref="RunsOptions.MaxLogBytesPerRun"/>.
    /// </summary>
    public async Task<DeliveryAck> AppendLogAsync(long agentId, RunLogLines lines)
    {
        if (lines.Lines is null || lines.Lines.Count == 0) return DeliveryAck.Delivered;
        if (lines.Lines.Count > MaxLogLinesPerCall) return DeliveryAck.Refused($"At most {MaxLogLinesPerCall} log lines per call.");
        await using var db = await dbFactory.CreateDbContextAsync();
        var (run, refusal) = await ReportingRunAsync(db, agentId, lines.RunId, "log lines");
        if (refusal is not null) return await RefuseAsync(run, "log", refusal);
        var now = clock.GetUtcNow();
        var texts = lines.Lines.Select(l => Notes.Cap(l, MaxLogLineLength)).ToList();
        long bytes = texts.Sum(t => (long)System.Text.Encoding.UTF8.GetByteCount(t));
        var cap = options.Value.MaxLogBytesPerRun;
        await using var transaction = await db.Database.BeginTransactionAsync();
        // Counted and checked in one statement, so concurrent calls cannot both pass the cap.
        var counted = await db.Runs.Where(r => r.Id == run!.Id && r.LogBytes + bytes <= cap)
            .ExecuteUpdateAsync(u => u.SetProperty(r => r.LogBytes, r => r.LogBytes + bytes));
        if (counted == 0)
        {
            await transaction.RollbackAsync(); // before the refusal is recorded on another connection
            return await RefuseAsync(run, "log",
                $"The run's log has reached its limit of {RunFormat.Bytes(cap)}; {texts.Count} line(s) refused.");
        }
        foreach (var text in texts) db.RunLogLines.Add(new RunLogLine { RunId = run!.Id, At = now, Text = text });
        await db.SaveChangesAsync();
        await transaction.CommitAsync();
        live.Publish(Topics.Run(run!.Id));
        return DeliveryAck.Delivered;
    }

    /// <summary>A line the portal itself writes into a run's log (bad points, state changes).</summary>
    public async Task PortalLogAsync(long runId, string text)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        db.RunLogLines.Add(new RunLogLine { RunId = runId, At = clock.GetUtcNow(), Text = "[portal] " + Notes.Cap(text, MaxLogLineLength) });
        await db.SaveChangesAsync();
        live.Publish(Topics.Run(runId));
    }

    /// <summary>
    /// Stores the environment a run trains in. A resumed run reports again; when its new environment differs (another
    /// agent, other threads), the new one is kept and the run's log says which fields changed.
    /// </summary>
    public async Task<DeliveryAck> RecordEnvironmentAsync(long agentId, RunEnvironmentReport report)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        var (found, refusal) = await ReportingRunAsync(db, agentId, report.RunId, "environment reports");
        if (refusal is not null) return await RefuseAsync(found, "environment", refusal);
        try { RunEnvironments.Validate(report.Environment); }
        catch (PortalError e) { return await RefuseAsync(found, "environment", e.Message); }
        var run = found!;
        var previous = RunEnvironments.Parse(run.EnvironmentJson);
        var json = RunEnvironments.Serialize(report.Environment);
        if (json == run.EnvironmentJson) return DeliveryAck.Delivered;
        run.EnvironmentJson = json;
        if (previous is not null)
        {
            var changed = RunEnvironments.Compare([(0, previous), (run.Id, report.Environment)]).Differences;
            db.RunLogLines.Add(new RunLogLine
            {
                RunId = run.Id, At = clock.GetUtcNow(),
                Text = "[portal] The run goes on in another environment: " + string.Join("; ", changed.Select(d => $"{d.Field} {d.Values[0]} -> {d.Values[1]}")) + ".",
            });
        }
        await db.SaveChangesAsync();
        live.Publish(Topics.Run(run.Id));
        return DeliveryAck.Delivered;
    }

    public async Task<DeliveryAck> CheckpointSavedAsync(long agentId, CheckpointInfo checkpoint)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        var (run, refusal) = await ReportingRunAsync(db, agentId, checkpoint.RunId, "checkpoints");
        if (refusal is not null) return await RefuseAsync(run, "checkpoint", refusal);
        var sha = (checkpoint.Sha256 ?? "").ToLowerInvariant();
        var stored = await db.RunArtifacts.AnyAsync(a => a.RunId == run!.Id && a.Kind == ArtifactKinds.Checkpoint && a.Sha256 == sha && a.Step == checkpoint.Step);
        if (!stored)
            return await RefuseAsync(run, "checkpoint", $"No uploaded checkpoint of run {run!.Id} at step {checkpoint.Step} with that SHA-256: upload it first.");
        if (run!.LastCheckpointStep is null || checkpoint.Step > run.LastCheckpointStep)
        {
            run.LastCheckpointStep = checkpoint.Step;
            await db.SaveChangesAsync();
        }
        live.Publish(Topics.Run(run.Id));
        return DeliveryAck.Delivered;
    }

    /// <summary>
    /// Stores a run's outcome once. Refused (nothing stored) for a run that is not the agent's or already
    /// finished, and for an outcome with more than <see cref="RunsOptions.MaxFinalMetrics"/> final metrics. An agent
    /// confirming the cancel of a run the portal cancelled is acknowledged, and changes nothing.
    /// </summary>
    public async Task<DeliveryAck> FinishAsync(long agentId, RunOutcome outcome)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        var run = await db.Runs.FindAsync(outcome.RunId);
        if (run is null) return DeliveryAck.Refused($"Run {outcome.RunId} does not exist.");
        if (run.AgentId != agentId) return DeliveryAck.Refused($"Run {outcome.RunId} is not assigned to this agent.");
        if (run.Status == RunStatus.Cancelled && outcome.Status == RunOutcomeStatus.Cancelled) return DeliveryAck.Delivered;
        if (FrozenReason(run, "outcomes") is { } frozen) return await RefuseAsync(run, "outcome", frozen);
        var finals = outcome.FinalMetrics ?? new Dictionary<string, double>();
        var max = options.Value.MaxFinalMetrics;
        if (finals.Count > max)
            return await RefuseAsync(run, "outcome", $"The outcome carries {finals.Count} final metrics; at most {max} are accepted.");

        await db.Entry(run).Collection(r => r.FinalMetrics).LoadAsync();
        var now = clock.GetUtcNow();
        run.Status = outcome.Status switch
        {
            RunOutcomeStatus.Succeeded => RunStatus.Succeeded,
            RunOutcomeStatus.Cancelled => RunStatus.Cancelled,
            _ => RunStatus.Failed,
        };
        run.EndedAt = now;
        run.FailureReason = outcome.Error is { Length: > 0 } e ? Notes.Cap(e, 4000) : run.FailureReason;
        run.LastStep = Math.Max(run.LastStep, outcome.LastStep);
        var existing = run.FinalMetrics.ToDictionary(m => m.Name);
        foreach (var (name, value) in finals)
        {
            if (string.IsNullOrWhiteSpace(name) || name.Length > MetricIngestion.MaxNameLength) continue;
            if (existing.TryGetValue(name, out var metric)) metric.Value = value;
            else run.FinalMetrics.Add(existing[name] = new RunFinalMetric { Name = name, Value = value });
        }
        run.Version++;
        var error = outcome.Error is null ? "" : $" ({Notes.Cap(outcome.Error, 1000)})";
        db.RunLogLines.Add(new RunLogLine { RunId = run.Id, At = now, Text = $"[portal] Run finished: {run.Status}{error}." });
        try { await db.SaveChangesAsync(); }
        catch (DbUpdateConcurrencyException)
        {
            return DeliveryAck.Retry("The run changed at the same moment; send the outcome again.");
        }
        logger.LogInformation("Run {Run} finished {Status}", run.Id, run.Status);
        live.Publish(Topics.Run(run.Id), Topics.Project(run.ProjectId), Topics.Agents);
        return DeliveryAck.Delivered;
    }

    /// <summary>
    /// Why a run takes no more reports from its agent, or null while it does: only a Running run, or a Lost one
    /// whose agent comes back, takes points, logs, checkpoints and an outcome.
    /// </summary>
    public static string? FrozenReason(Run run, string what) => run.Status is RunStatus.Running or RunStatus.Lost
        ? null
        : $"Run {run.Id} is {run.Status}; a finished run takes no more {what}.";

    /// <summary>Tells connected agents that a job is waiting.</summary>
    public Task AnnounceJobAsync() => agents.JobAvailableAsync();

    /// <summary>Asks the agent that runs a run to stop it.</summary>
    public Task CancelOnAgentAsync(long agentId, long runId) => agents.CancelRunAsync(agentId, runId);

    /// <summary>The agent's run, or a refusal: someone else's or an unknown run (not recorded on it) or a frozen one.</summary>
    private static async Task<(Run? Run, string? Refusal)> ReportingRunAsync(PortalDbContext db, long agentId, long runId, string what)
    {
        var run = await db.Runs.FindAsync(runId);
        if (run is null) return (null, $"Run {runId} does not exist.");
        if (run.AgentId != agentId) return (null, $"Run {runId} is not assigned to this agent.");
        return (run, FrozenReason(run, what));
    }

    /// <summary>A permanent refusal; one of the agent's own run is also listed on the run's page.</summary>
    private async Task<DeliveryAck> RefuseAsync(Run? run, string what, string reason)
    {
        if (run is not null) await refusals.RecordAsync(run.Id, what, reason);
        logger.LogWarning("Refused {What} of run {Run}: {Reason}", what, run?.Id, reason);
        return DeliveryAck.Refused(reason);
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
