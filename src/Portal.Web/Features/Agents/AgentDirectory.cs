using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Web.Data;
using Portal.Web.Features.Runs;

namespace Portal.Web.Features.Agents;

public enum AgentStatus { Idle, Busy, Offline }

public sealed record AgentJob(long RunId, long ProjectId, string Recipe, long LastStep);

public sealed record AgentRow(Agent Agent, AgentStatus Status, IReadOnlyList<AgentJob> Jobs);

/// <summary>The agents as the Agents page shows them.</summary>
public sealed class AgentDirectory(IDbContextFactory<PortalDbContext> dbFactory, IOptions<RunsOptions> options, TimeProvider clock)
{
    public async Task<IReadOnlyList<AgentRow>> ListAsync()
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        var agents = await db.Agents.AsNoTracking().OrderBy(a => a.Name).ToListAsync();
        var jobs = await db.Runs.AsNoTracking().Where(r => r.Status == RunStatus.Running && r.AgentId != null)
            .Select(r => new { AgentId = r.AgentId!.Value, Job = new AgentJob(r.Id, r.ProjectId, r.Recipe, r.LastStep) })
            .ToListAsync();
        var now = clock.GetUtcNow();
        return agents.Select(a =>
        {
            var mine = jobs.Where(j => j.AgentId == a.Id).Select(j => j.Job).ToList();
            var alive = a.IsConnected && a.LastHeartbeatAt is { } beat && now - beat < options.Value.LostAfter;
            var status = !alive ? AgentStatus.Offline : mine.Count > 0 ? AgentStatus.Busy : AgentStatus.Idle;
            return new AgentRow(a, status, mine);
        }).ToList();
    }
}
