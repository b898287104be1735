using Microsoft.EntityFrameworkCore;
using Portal.Web.Data;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Projects;

public sealed record ProjectSummary(long Id, string Name, string Summary, ReproductionStage Stage, bool IsDemo, int OpenTasks, int ClaimCount);

/// <summary>Reading projects: the list and one project with its paper, claims, references and stage history.</summary>
public sealed class ProjectService(IDbContextFactory<PortalDbContext> dbFactory)
{
    public async Task<IReadOnlyList<ProjectSummary>> ListAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Projects
            .OrderBy(p => p.Name)
            .Select(p => new ProjectSummary(p.Id, p.Name, p.Summary, p.Stage, p.IsDemo,
                db.Tasks.Count(t => t.ProjectId == p.Id && t.Status != Tasks.ProjectTaskStatus.Done),
                p.Claims.Count))
            .ToListAsync(cancellationToken);
    }

    public async Task<Project> GetAsync(long projectId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Projects.AsNoTracking()
                   .Include(p => p.Claims)
                   .Include(p => p.References)
                   .Include(p => p.StageHistory.OrderByDescending(s => s.At))
                   .AsSplitQuery()
                   .FirstOrDefaultAsync(p => p.Id == projectId, cancellationToken)
               ?? throw PortalError.NotFound($"There is no project {projectId}.");
    }

    /// <summary>Display names for user ids (e.g. who moved a project between stages); unknown ids are left out.</summary>
    public async Task<IReadOnlyDictionary<string, string>> DisplayNamesAsync(IEnumerable<string> userIds, CancellationToken cancellationToken = default)
    {
        var ids = userIds.Distinct().ToList();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Users.Where(u => ids.Contains(u.Id)).ToDictionaryAsync(u => u.Id, u => u.DisplayName, cancellationToken);
    }
}
