using Microsoft.EntityFrameworkCore;
using Portal.Web.Data;
using Portal.Web.Features.Demo;
using Portal.Web.Features.Runs;

namespace Portal.Web.Features.Releases;

/// <summary>
/// YOLOv4-tiny evaluation runs with the team's reported values (21.21 AP, 41.68 AP50) and a draft release on them.
/// The team measured on COCO val while the paper reports test-dev, so the runs are stored on val, as they were:
/// the reproducibility gate then shows the split mismatch instead of a pass the evidence does not support.
/// Every run is marked as demo data in its config.
/// </summary>
internal sealed class DemoReleases(TimeProvider clock) : IDemoContributor
{
    public int Order => 50;

    public async Task ContributeAsync(PortalDbContext db, DemoTeam team, CancellationToken cancellationToken)
    {
        var project = await db.Projects.Include(p => p.Claims).FirstOrDefaultAsync(p => p.Name == "YOLOv4-tiny", cancellationToken);
        if (project is null) return;
        var now = clock.GetUtcNow();

        Run Evaluation(string commit, int seed, string starter, double ap, double ap50, int daysAgo) => new()
        {
            ProjectId = project.Id, Recipe = "detector", Seed = seed, Commit = commit, Dataset = "COCO", Split = "val",
            ConfigJson = $$"""{"demo": true, "note": "demo data: values from the team's reported YOLOv4-tiny reproduction", "model": "yolov4-tiny", "input": 416, "eval": {"dataset": "COCO", "split": "val"}, "seed": {{seed}}}""",
            Status = RunStatus.Succeeded, StartedById = team[starter].Id,
            QueuedAt = now.AddDays(-daysAgo), StartedAt = now.AddDays(-daysAgo).AddMinutes(5), EndedAt = now.AddDays(-daysAgo).AddHours(20),
            FinalMetrics = [new RunFinalMetric { Name = "AP", Value = ap }, new RunFinalMetric { Name = "AP50", Value = ap50 }],
        };

        // Earlier commits show the climb a per-commit log makes visible; the last three seeds are the release's evidence.
        var history = new[]
        {
            Evaluation("3f9c2a1e", 1, "member4", 18.62, 37.95, 40),
            Evaluation("8b41d07c", 1, "member4", 20.37, 40.12, 30),
        };
        var chosen = new[]
        {
            Evaluation("c7e5a9d2", 1, "member4", 21.18, 41.63, 12),
            Evaluation("c7e5a9d2", 2, "member4", 21.21, 41.68, 11),
            Evaluation("c7e5a9d2", 3, "member8", 21.24, 41.73, 10),
        };
        db.Runs.AddRange(history);
        db.Runs.AddRange(chosen);
        await db.SaveChangesAsync(cancellationToken);

        var lead = team["techlead"].Id;
        var release = new Release
        {
            ProjectId = project.Id, Name = "YOLOv4-tiny", Version = "1.0.0-rc1", Variant = "416 GPU", Commit = "c7e5a9d2",
            CreatedById = lead, CreatedAt = now.AddDays(-9),
            Runs = chosen.Select(r => new ReleaseRun { RunId = r.Id }).ToList(),
        };
        var evidence = new ReleaseEvidence(release, project, [], [], [], chosen, new Dictionary<string, string>());
        release.ModelCardMarkdown = ModelCardTemplate.Prefill(project, release, ReleaseGates.Claims(evidence), chosen);
        db.Releases.Add(release);
        await db.SaveChangesAsync(cancellationToken);
        db.ReleaseAudit.Add(new ReleaseAuditEntry
        {
            ReleaseId = release.Id, UserId = lead, Action = ReleaseActions.Created, At = release.CreatedAt,
            Detail = "YOLOv4-tiny 1.0.0-rc1 (demo data)", EvidenceFingerprint = ReleaseGates.Fingerprint(evidence),
        });
    }
}
