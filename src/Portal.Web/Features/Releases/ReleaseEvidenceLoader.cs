using Microsoft.EntityFrameworkCore;
using Portal.Web.Data;
using Portal.Web.Features.Design;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Releases;

/// <summary>Loads a release (tracked) and the evidence its gates read, straight from the entities.</summary>
internal static class ReleaseEvidenceLoader
{
    public static async Task<ReleaseEvidence> LoadAsync(PortalDbContext db, long releaseId, CancellationToken ct)
    {
        var release = await db.Releases.Include(r => r.Runs).Include(r => r.Approvals).AsSplitQuery()
                          .FirstOrDefaultAsync(r => r.Id == releaseId, ct)
                      ?? throw PortalError.NotFound($"There is no release {releaseId}.");
        var project = await db.Projects.AsNoTracking().Include(p => p.Claims).FirstAsync(p => p.Id == release.ProjectId, ct);

        var stages = release.RequiredStages.ToList();
        var stageTasks = await db.Tasks.AsNoTracking()
            .Where(t => t.ProjectId == project.Id && stages.Contains(t.Stage)).OrderBy(t => t.Id).ToListAsync(ct);
        var taskComponents = await db.Tasks.Where(t => t.ProjectId == project.Id).Select(t => t.Component).Distinct().ToListAsync(ct);

        var documents = await db.DesignDocuments.AsNoTracking()
            .Where(d => d.ProjectId == project.Id && !d.IsDeleted)
            .Include(d => d.Versions).Include(d => d.ReviewRequests).AsSplitQuery().ToListAsync(ct);
        var documentIds = documents.Select(d => d.Id).ToList();
        var verdicts = (await db.ReviewVerdicts.AsNoTracking().Where(v => documentIds.Contains(v.DocumentId)).ToListAsync(ct))
            .ToLookup(v => v.DocumentId);
        var designs = documents.Select(d =>
        {
            var latest = d.Versions.Count == 0 ? 0 : d.Versions.Max(v => v.Number);
            var state = DesignApprovalRules.StateOf(latest, d.ReviewRequests.Select(r => r.ReviewerId), verdicts[d.Id]);
            return new DesignStatus(d.Id, d.Title, d.Component, latest, state);
        }).ToList();

        var runIds = release.Runs.Select(r => r.RunId).ToList();
        var runs = await db.Runs.AsNoTracking().Include(r => r.FinalMetrics)
            .Where(r => runIds.Contains(r.Id)).OrderBy(r => r.Id).ToListAsync(ct);

        var userIds = runs.Select(r => r.StartedById).Concat(release.Approvals.Select(a => a.LeadId)).Append(release.CreatedById).Distinct().ToList();
        var names = await db.Users.Where(u => userIds.Contains(u.Id)).ToDictionaryAsync(u => u.Id, u => u.DisplayName, ct);

        var defects = await db.Defects.Where(d => d.ProjectId == project.Id && d.IsBlocking)
            .Select(d => new DefectFact(d.Id, d.Title, d.Component, d.IsBlocking,
                d.Status != Defects.DefectStatus.Verified && d.Status != Defects.DefectStatus.WontFix)).ToListAsync(ct);

        return new ReleaseEvidence(release, project, stageTasks, taskComponents, designs, runs, names, defects);
    }

    /// <summary>
    /// Clears every standing decision given on other evidence than the current one, with an audit entry each.
    /// A published release is frozen: its decisions stay as they were.
    /// </summary>
    public static void ClearStaleDecisions(PortalDbContext db, ReleaseEvidence evidence, string fingerprint, DateTimeOffset now)
    {
        var release = evidence.Release;
        if (release.Status == ReleaseStatus.Published) return;
        foreach (var stale in release.Approvals.Where(a => a.IsStanding && a.EvidenceFingerprint != fingerprint))
        {
            // Bumping the row version makes two readers clearing at once save it (and its audit entry) only once.
            release.RowVersion++;
            stale.ClearedAt = now;
            db.ReleaseAudit.Add(new ReleaseAuditEntry
            {
                ReleaseId = release.Id, UserId = stale.LeadId, Action = ReleaseActions.Cleared, At = now, EvidenceFingerprint = fingerprint,
                Detail = $"The {stale.Decision.ToString().ToLowerInvariant()} of {evidence.NameOf(stale.LeadId)} was given on evidence " +
                         $"{Short(stale.EvidenceFingerprint)}; the evidence is now {Short(fingerprint)}.",
            });
        }
    }

    public static string Short(string fingerprint) => fingerprint.Length > 12 ? fingerprint[..12] : fingerprint;
}
