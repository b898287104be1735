using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Contracts;
using Portal.Web.Data;
using Portal.Web.Features.Runs;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Agents;

/// <summary>An agent's connection life: registration with its hardware, heartbeats, going away.</summary>
public sealed class AgentSessions(
    IDbContextFactory<PortalDbContext> dbFactory,
    IHubContext<AgentHub, IAgentClient> hub,
    AgentConnections connections,
    IOptions<RunsOptions> options,
    LiveUpdates live,
    TimeProvider clock,
    ILogger<AgentSessions> logger)
{
    public const int MaxNameLength = 64;
    private const int MaxReportedRuns = 64;

    // The connection an agent registered last and the process behind it: an old connection that closes late must
    // not mark it offline, and a second live process of the same name is refused.
    private readonly ConcurrentDictionary<long, (string ConnectionId, string? Instance)> _currentConnection = new();
    private readonly SemaphoreSlim _registering = new(1, 1);

    public async Task<AgentWelcome> RegisterAsync(long tokenId, string connectionId, AgentHello hello)
    {
        // One registration at a time, so that two processes of one name cannot both pass the check below.
        await _registering.WaitAsync();
        try { return await RegisterOneAsync(tokenId, connectionId, hello); }
        finally { _registering.Release(); }
    }

    private async Task<AgentWelcome> RegisterOneAsync(long tokenId, string connectionId, AgentHello hello)
    {
        var name = (hello.Name ?? "").Trim();
        if (name.Length is 0 or > MaxNameLength)
            throw PortalError.Validation($"An agent name has 1 to {MaxNameLength} characters.");
        if (hello.Hardware is null) throw PortalError.Validation("Report the agent's hardware when registering.");
        var reported = (hello.RunningRunIds ?? []).Distinct().Take(MaxReportedRuns).ToList();
        var now = clock.GetUtcNow();

        await using var db = await dbFactory.CreateDbContextAsync();
        var agent = await db.Agents.FirstOrDefaultAsync(a => a.Name == name);
        if (agent is null)
        {
            agent = new Agent { Name = name };
            db.Agents.Add(agent);
        }
        else if (agent.TokenId != tokenId && await db.AgentTokens.AnyAsync(t => t.Id == agent.TokenId && t.RevokedAt == null))
        {
            // A name (and the runs it holds) belongs to its token until that token is revoked.
            throw PortalError.Conflict($"The agent name '{name}' is registered with another token; choose another name.");
        }
        if (_currentConnection.TryGetValue(agent.Id, out var current) && current.ConnectionId != connectionId
            && connections.IsOpen(current.ConnectionId) && (hello.InstanceId is null || hello.InstanceId != current.Instance))
        {
            // See docs/decisions: the live agent keeps its name and runs; the newcomer is told why it may not join.
            throw PortalError.Conflict($"An agent named '{name}' is already connected with this token. Two live agents cannot share a name: " +
                                       "stop the other one or start this one with another --name.");
        }
        var hw = hello.Hardware;
        agent.TokenId = tokenId;
        agent.CpuCores = Math.Max(0, hw.CpuCores);
        agent.MemoryBytes = Math.Max(0, hw.MemoryBytes);
        agent.GpuName = Truncate(hw.GpuName, 200);
        agent.GpuMemoryBytes = hw.GpuMemoryBytes;
        agent.CudaAvailable = hw.CudaAvailable;
        agent.TorchVersion = Truncate(hw.TorchVersion, 100) ?? "";
        agent.Os = Truncate(hw.Os, 200) ?? "";
        agent.MaxConcurrentJobs = Math.Clamp(hello.MaxConcurrentJobs, 1, 64);
        agent.NumericCheckStatus = hello.NumericCheck?.Status;
        agent.NumericCheckSummary = Truncate(hello.NumericCheck?.Summary, 2000);
        agent.LastHeartbeatAt = now;
        agent.IsConnected = true;
        await db.SaveChangesAsync();
        _currentConnection[agent.Id] = (connectionId, hello.InstanceId);

        var toCancel = await ReconcileRunsAsync(db, agent, reported, now);
        logger.LogInformation("Agent {Name} registered (id {Id}), running {Runs}", name, agent.Id, string.Join(",", reported));
        live.Publish(Topics.Agents);
        return new AgentWelcome(agent.Id, options.Value.HeartbeatSeconds, toCancel);
    }

    public async Task HeartbeatAsync(long agentId, AgentHeartbeat heartbeat)
    {
        var reported = (heartbeat.RunningRunIds ?? []).Distinct().Take(MaxReportedRuns).ToList();
        var now = clock.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync();
        var agent = await db.Agents.FindAsync(agentId) ?? throw PortalError.NotFound("This agent is not registered.");
        agent.LastHeartbeatAt = now;
        agent.IsConnected = true;
        await db.SaveChangesAsync();
        var toCancel = await ReconcileRunsAsync(db, agent, reported, now);
        foreach (var runId in toCancel) await hub.Clients.Group(AgentHub.Group(agentId)).CancelRun(runId);
        live.Publish(Topics.Agents);
    }

    public async Task DisconnectedAsync(long agentId, string connectionId)
    {
        if (!_currentConnection.TryGetValue(agentId, out var current) || current.ConnectionId != connectionId) return;
        _currentConnection.TryRemove(new KeyValuePair<long, (string, string?)>(agentId, current));
        await using var db = await dbFactory.CreateDbContextAsync();
        await db.Agents.Where(a => a.Id == agentId).ExecuteUpdateAsync(s => s.SetProperty(a => a.IsConnected, false));
        live.Publish(Topics.Agents);
    }

    /// <summary>
    /// Brings the portal's view of the agent's runs in line with what the agent says it runs: its runs that are
    /// alive get a heartbeat (a Lost one goes back to Running: the portal, not the run, was away), and the ones
    /// it must not run (cancelled, finished, handed to another agent, unknown) are returned to be cancelled.
    /// </summary>
    private async Task<IReadOnlyList<long>> ReconcileRunsAsync(PortalDbContext db, Agent agent, IReadOnlyList<long> reported, DateTimeOffset now)
    {
        if (reported.Count == 0) return [];
        var runs = await db.Runs.Where(r => reported.Contains(r.Id)).ToDictionaryAsync(r => r.Id);
        var toCancel = new List<long>();
        var changed = new List<long>();
        foreach (var id in reported)
        {
            if (!runs.TryGetValue(id, out var run) || run.AgentId != agent.Id || run.Status is not (RunStatus.Running or RunStatus.Lost))
            {
                toCancel.Add(id);
                continue;
            }
            if (run.Status == RunStatus.Lost)
            {
                run.Status = RunStatus.Running;
                run.EndedAt = null;
                run.FailureReason = null;
                run.Version++;
                db.RunLogLines.Add(new RunLogLine { RunId = id, At = now, Text = $"[portal] Agent {agent.Name} is back; the run goes on." });
                changed.Add(id);
            }
        }
        try { await db.SaveChangesAsync(); }
        catch (DbUpdateConcurrencyException)
        {
            // Someone cancelled or resumed one of these runs at the same moment; the next heartbeat settles it.
            changed.Clear();
        }
        var alive = reported.Except(toCancel).ToList();
        await db.Runs.Where(r => alive.Contains(r.Id) && r.AgentId == agent.Id && r.Status == RunStatus.Running)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.LastHeartbeatAt, now));
        foreach (var id in changed) live.Publish(Topics.Run(id), Topics.Project(runs[id].ProjectId));
        return toCancel;
    }

    private static string? Truncate(string? value, int max) => value is null ? null : value.Length <= max ? value : value[..max];
}
