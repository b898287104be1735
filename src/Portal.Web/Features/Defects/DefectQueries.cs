using Microsoft.EntityFrameworkCore;
using Portal.Web.Data;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Defects;

public sealed record DefectRow(
    long Id, string Title, string Component, DefectStatus Status, bool IsBlocking, bool IsDemo, string? OwnerName,
    long? RunId, string? FixCommit, long? VerifyingRunId, DateTimeOffset CreatedAt, int Version);

public sealed record ProjectDefectCount(long ProjectId, string Name, int Open, int Total);

/// <summary>Reading defects for lists, dashboards and exports.</summary>
public sealed class DefectQueries(IDbContextFactory<PortalDbContext> dbFactory)
{
    public async Task<IReadOnlyList<DefectRow>> ListAsync(long projectId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, ct)) throw PortalError.NotFound($"There is no project {projectId}.");
        var rows = await (from d in db.Defects.AsNoTracking()
                          where d.ProjectId == projectId
                          join u in db.Users on d.OwnerId equals u.Id into owners
                          from u in owners.DefaultIfEmpty()
                          select new { d, Owner = u == null ? null : u.DisplayName }).ToListAsync(ct);
        return rows.OrderByDescending(r => r.d.CreatedAt).ThenByDescending(r => r.d.Id)
            .Select(r => new DefectRow(r.d.Id, r.d.Title, r.d.Component.ToString(), r.d.Status, r.d.IsBlocking, r.d.IsDemo, r.Owner,
                r.d.RunId, r.d.FixCommit, r.d.VerifyingRunId, r.d.CreatedAt, r.d.Version))
            .ToList();
    }

    public async Task<Defect> GetAsync(long defectId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Defects.AsNoTracking().FirstOrDefaultAsync(d => d.Id == defectId, ct)
               ?? throw PortalError.NotFound($"There is no defect {defectId}.");
    }

    /// <summary>Facts for the dashboards: one project's defects, or the whole team's when <paramref name="projectId"/> is null.</summary>
    public async Task<IReadOnlyList<DefectFacts>> FactsAsync(long? projectId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var defects = await db.Defects.AsNoTracking().Where(d => projectId == null || d.ProjectId == projectId).ToListAsync(ct);
        return defects.Select(Facts).ToList();
    }

    /// <summary>Every project with its open and total defect counts, for the team's dashboard.</summary>
    public async Task<IReadOnlyList<ProjectDefectCount>> CountsByProjectAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var counts = await db.Defects.AsNoTracking()
            .GroupBy(d => d.ProjectId)
            .Select(g => new { ProjectId = g.Key, Total = g.Count(), Open = g.Count(d => d.Status != DefectStatus.Verified && d.Status != DefectStatus.WontFix) })
            .ToListAsync(ct);
        var projects = await db.Projects.AsNoTracking().Select(p => new { p.Id, p.Name }).ToListAsync(ct);
        return projects.Select(p => (p, c: counts.FirstOrDefault(c => c.ProjectId == p.Id)))
            .Select(x => new ProjectDefectCount(x.p.Id, x.p.Name, x.c?.Open ?? 0, x.c?.Total ?? 0))
            .OrderBy(x => x.Name, StringComparer.OrdinalIgnoreCase)
            .ToList();
    }

    public async Task<IReadOnlyList<Defect>> AllAsync(long projectId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Defects.AsNoTracking().Where(d => d.ProjectId == projectId).OrderBy(d => d.Id).ToListAsync(ct);
    }

    public static DefectFacts Facts(Defect d) => new(
        d.Component.ToString(), d.Status, d.Reporter, d.Manifestation, d.Stage, d.Impact, d.Type, d.RootCause, d.CreatedAt,
        d.Status == DefectStatus.Verified ? d.ClosedAt : null);
}
