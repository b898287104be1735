using Microsoft.EntityFrameworkCore;
using Portal.Web.Data;
using Portal.Web.Features.Design;
using Portal.Web.Features.Runs;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Releases;

/// <summary>
/// Reads the evidence the gates look at for one release or for all of a project's releases at once: the same
/// fixed number of queries whatever the number of releases, because the project's tasks, designs, runs and
/// people are read once and shared out in memory.
/// </summary>
public sealed class ReleaseEvidenceReader
{
    /// <summary>One release's evidence. Tracked for a change (the release and its runs and decisions), untracked for a read.</summary>
    public async Task<ReleaseEvidence> ForReleaseAsync(PortalDbContext db, long releaseId, bool tracked, CancellationToken ct)
    {
        var evidence = await ReadAsync(db, Query(db, tracked).Where(r => r.Id == releaseId), ct);
        return evidence.Count == 1 ? evidence[0] : throw PortalError.NotFound($"There is no release {releaseId}.");
    }

    /// <summary>Every release of the project, newest first, untracked.</summary>
    public Task<IReadOnlyList<ReleaseEvidence>> ForProjectAsync(PortalDbContext db, long projectId, CancellationToken ct) =>
        ReadAsync(db, Query(db, tracked: false).Where(r => r.ProjectId == projectId), ct);

    private static IQueryable<Release> Query(PortalDbContext db, bool tracked) =>
        tracked ? db.Releases : db.Releases.AsNoTracking();

    private static async Task<IReadOnlyList<ReleaseEvidence>> ReadAsync(PortalDbContext db, IQueryable<Release> query, CancellationToken ct)
    {
        var releases = await query.Include(r => r.Runs).Include(r => r.Approvals).AsSplitQuery()
            .OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id).ToListAsync(ct);
        if (releases.Count == 0) return [];
        var projectId = releases[0].ProjectId;
        var project = await db.Projects.AsNoTracking().Include(p => p.Claims).FirstAsync(p => p.Id == projectId, ct);

        var stages = releases.SelectMany(r => r.RequiredStages).Distinct().ToList();
        var stageTasks = await db.Tasks.AsNoTracking()
            .Where(t => t.ProjectId == projectId && stages.Contains(t.Stage)).OrderBy(t => t.Id).ToListAsync(ct);
        var taskComponents = await db.Tasks.Where(t => t.ProjectId == projectId).Select(t => t.Component).Distinct().ToListAsync(ct);
        var designs = await DesignsAsync(db, projectId, ct);

        var runIds = releases.SelectMany(r => r.Runs).Select(r => r.RunId).Distinct().ToList();
        var runs = await db.Runs.AsNoTracking().Include(r => r.FinalMetrics)
            .Where(r => runIds.Contains(r.Id)).OrderBy(r => r.Id).ToListAsync(ct);

        // The bundle ships a run's newest checkpoint, so approvals cover the checkpoints' hashes.
        var checkpoints = await db.RunArtifacts.AsNoTracking()
            .Where(a => runIds.Contains(a.RunId) && a.Kind == ArtifactKinds.Checkpoint).ToListAsync(ct);

        var differential = await db.Runs.AsNoTracking().Include(r => r.FinalMetrics)
            .Where(r => r.ProjectId == projectId && r.Recipe == Portal.Training.Differential.DifferentialJob.JobType).OrderBy(r => r.Id).ToListAsync(ct);

        var defects = await db.Defects.AsNoTracking().Where(d => d.ProjectId == projectId && d.IsBlocking)
            .Select(d => new DefectFact(d.Id, d.Title, d.Component, d.IsBlocking,
                d.Status != Defects.DefectStatus.Verified && d.Status != Defects.DefectStatus.WontFix)).ToListAsync(ct);

        var userIds = runs.Select(r => r.StartedById)
            .Concat(releases.SelectMany(r => r.Approvals).Select(a => a.LeadId))
            .Concat(releases.Select(r => r.CreatedById)).Distinct().ToList();
        var names = await db.Users.Where(u => userIds.Contains(u.Id)).Select(u => new { u.Id, u.DisplayName }).ToDictionaryAsync(u => u.Id, u => u.DisplayName, ct);

        return releases.Select(release =>
        {
            var chosen = release.Runs.Select(r => r.RunId).ToHashSet();
            return new ReleaseEvidence(release, project,
                stageTasks.Where(t => release.RequiredStages.Contains(t.Stage)).ToList(), taskComponents, designs,
                runs.Where(r => chosen.Contains(r.Id)).ToList(), names, defects)
            {
                Checkpoints = checkpoints.Where(a => chosen.Contains(a.RunId)).ToList(),
                DifferentialRuns = differential,
            };
        }).ToList();
    }

    private static async Task<IReadOnlyList<DesignStatus>> DesignsAsync(PortalDbContext db, long projectId, CancellationToken ct)
    {
        var documents = await db.DesignDocuments
            .Where(d => d.ProjectId == projectId && !d.IsDeleted)
            .Select(d => new
            {
                d.Id, d.Title, d.Component,
                Latest = d.Versions.Max(v => (int?)v.Number) ?? 0,
                Reviewers = d.ReviewRequests.Select(r => r.ReviewerId).ToList(),
                Verdicts = db.ReviewVerdicts.Where(v => v.DocumentId == d.Id).ToList(),
            }).AsSplitQuery().ToListAsync(ct);
        return documents.Select(d =>
            new DesignStatus(d.Id, d.Title, d.Component, d.Latest, DesignApprovalRules.StateOf(d.Latest, d.Reviewers, d.Verdicts))).ToList();
    }
}
