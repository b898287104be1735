using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Training.Differential;
using Portal.Web.Data;
using Portal.Web.Features.Demo;
using Portal.Web.Features.Design;
using Portal.Web.Features.Runs;
using Portal.Web.Features.Tasks;

namespace Portal.Web.Features.Releases;

/// <summary>
/// A release whose evidence is complete, so a lead can walk the sign-off and publish on the demo: YOLOv3 (at the
/// release stage, every task done) gets an approved design document per component, three seeds on COCO test-dev by
/// two members, a passing differential run of the release's commit and a filled model card. Only the leads' sign-off
/// is missing. The YOLOv4-tiny release stays the example of gates that fail. Everything here is labelled demo data;
/// the checkpoint is a small placeholder file, not trained weights.
/// </summary>
internal sealed class DemoPublishableRelease(IOptions<PortalOptions> portal, TimeProvider clock) : IDemoContributor
{
    public const string ProjectName = "YOLOv3";
    public const string Commit = "9d2e4b71";

    // After the tasks (10), the design reviews (20) and the differential runs (40); the defects (60) leave a released
    // project's defects closed.
    public int Order => 55;

    private static readonly (ModelComponent Component, string Title, string Markdown)[] Designs =
    [
        (ModelComponent.Backbone, "Backbone: Darknet-53", "Input `[B, 3, 608, 608]` float32.\n\nOutputs C3, C4, C5 at strides 8, 16 and 32 (256, 512 and 1024 channels).\n\nResidual blocks 1-2-8-8-4 as in `cfg/yolov3.cfg`."),
        (ModelComponent.Neck, "Neck: feature pyramid", "Upsample C5 by 2 and concatenate with C4; again with C3.\n\nOutputs P3-P5 with 128, 256 and 512 channels."),
        (ModelComponent.Head, "Head: three scales, three anchors each", "Per level `[B, 3, S, S, 85]`: x, y, w, h, objectness and 80 class logits.\n\nAnchors as in `cfg/yolov3.cfg`."),
        (ModelComponent.Loss, "Loss: boxes, objectness and classes", "Sum-squared error on box offsets, binary cross-entropy for objectness and classes (Section 2.2)."),
        (ModelComponent.DataPipeline, "Data pipeline: resize, jitter and flips", "Random scale 320-608 every 10 batches, jitter 0.3, horizontal flip 0.5, HSV exposure and saturation 1.5."),
    ];

    public async Task ContributeAsync(PortalDbContext db, DemoTeam team, CancellationToken cancellationToken)
    {
        var project = await db.Projects.Include(p => p.Claims).FirstOrDefaultAsync(p => p.Name == ProjectName && p.IsDemo, cancellationToken);
        if (project is null) return;
        var now = clock.GetUtcNow();
        var author = team["member5"].Id;
        var reviewer = team["lead.modeling"].Id;

        foreach (var (component, title, markdown) in Designs)
        {
            var doc = new DesignDocument
            {
                ProjectId = project.Id, Component = component, Title = title, AuthorId = author, CreatedAt = now.AddDays(-80),
                Versions = [new DesignDocumentVersion { Number = 1, AuthorId = author, CreatedAt = now.AddDays(-80), Markdown = markdown }],
                ReviewRequests = [new ReviewRequest { ReviewerId = reviewer, RequestedAt = now.AddDays(-80) }],
            };
            db.DesignDocuments.Add(doc);
            await db.SaveChangesAsync(cancellationToken);
            db.ReviewVerdicts.Add(new ReviewVerdict { DocumentId = doc.Id, VersionNumber = 1, ReviewerId = reviewer, Verdict = Verdict.Approve, At = now.AddDays(-78) });
        }

        // Close to the paper's 33.0 AP and 57.9 AP50 (Table 3, 608x608), on the paper's split.
        var evaluations = new (int Seed, string Starter, double Ap, double Ap50)[] { (1, "member4", 32.84, 57.71), (2, "member4", 33.12, 58.02), (3, "member8", 32.97, 57.86) };
        var runs = new List<Run>();
        foreach (var (seed, starter, ap, ap50) in evaluations)
        {
            var at = now.AddDays(-20 + seed);
            var run = new Run
            {
                ProjectId = project.Id, Recipe = "detector", Seed = seed, Commit = Commit, Dataset = "COCO", Split = "test-dev",
                ConfigJson = $$"""{"demo": true, "note": "demo data: a completed YOLOv3 reproduction", "model": "yolov3", "input": 608, "eval": {"dataset": "COCO", "split": "test-dev"}, "seed": {{seed}}}""",
                Status = RunStatus.Succeeded, StartedById = team[starter].Id, QueuedAt = at, StartedAt = at.AddMinutes(5), EndedAt = at.AddHours(30),
                FinalMetrics = [new RunFinalMetric { Name = "AP", Value = ap }, new RunFinalMetric { Name = "AP50", Value = ap50 }],
            };
            db.Runs.Add(run);
            runs.Add(run);
        }
        var differentialAt = now.AddDays(-22);
        db.Runs.Add(new Run
        {
            ProjectId = project.Id, Recipe = DifferentialJob.JobType, Commit = Commit, Seed = 7, Dataset = "reference inputs", Split = "fixed",
            ConfigJson = """{"demo": true, "note": "demo data: the comparison's outcome as recorded, without a stored report"}""",
            Status = RunStatus.Succeeded, StartedById = team["member7"].Id, QueuedAt = differentialAt, StartedAt = differentialAt, EndedAt = differentialAt.AddMinutes(3),
            FinalMetrics = [new RunFinalMetric { Name = "passed", Value = 1 }, new RunFinalMetric { Name = "tensors", Value = 366 }, new RunFinalMetric { Name = "outOfTolerance", Value = 0 }],
        });
        await db.SaveChangesAsync(cancellationToken);
        foreach (var run in runs) await AddArtifactsAsync(db, run, cancellationToken);

        var lead = team["techlead"].Id;
        var release = new Release
        {
            ProjectId = project.Id, Name = ProjectName, Version = "1.0.0", Variant = "608 GPU", Commit = Commit,
            // One lead's approval is enough for this demo release, so a single lead can walk the whole sign-off.
            RequiredApprovals = 1,
            CreatedById = lead, CreatedAt = now.AddDays(-5),
            Runs = runs.Select(r => new ReleaseRun { RunId = r.Id }).ToList(),
        };
        release.ModelCardMarkdown = Card(project.PaperAuthors, project.PaperTitle, project.PaperYear, project.PaperUrl);
        db.Releases.Add(release);
        await db.SaveChangesAsync(cancellationToken);
        db.ReleaseAudit.Add(new ReleaseAuditEntry
        {
            ReleaseId = release.Id, UserId = lead, Action = ReleaseActions.Created, At = release.CreatedAt, Detail = "YOLOv3 1.0.0 (demo data)",
        });
        await db.SaveChangesAsync(cancellationToken);
    }

    private async Task AddArtifactsAsync(PortalDbContext db, Run run, CancellationToken cancellationToken)
    {
        var id = run.Id.ToString(CultureInfo.InvariantCulture);
        foreach (var (kind, name, text) in new[]
                 {
                     (ArtifactKinds.Checkpoint, "weights.demo.ckpt", "demo data: a placeholder for the checkpoint, not trained weights\n"),
                     (ArtifactKinds.Config, "config.json", run.ConfigJson),
                 })
        {
            var relative = Path.Combine("artifacts", id, name);
            var full = Path.Combine(portal.Value.ResolveDataDirectory(), relative);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            var bytes = Encoding.UTF8.GetBytes(text);
            await File.WriteAllBytesAsync(full, bytes, cancellationToken);
            db.RunArtifacts.Add(new RunArtifact
            {
                RunId = run.Id, Kind = kind, FileName = name, StoragePath = relative, SizeBytes = bytes.Length,
                Sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)), Step = kind == ArtifactKinds.Checkpoint ? 500_000 : null, CreatedAt = run.EndedAt ?? run.QueuedAt,
            });
        }
        await db.SaveChangesAsync(cancellationToken);
    }

    private static string Card(string authors, string title, int year, string url) => $"""
        # YOLOv3 1.0.0 (608 GPU)

        Demo data: a completed reproduction for trying the sign-off.

        ## Description

        A reimplementation of "{title}" ({authors}, {year}): Darknet-53 with predictions at three scales, built from commit `{Commit}`.

        ## Intended use

        Object detection on natural images of the 80 COCO classes, as a baseline for the team's later YOLO versions. Not for safety-critical use.

        ## Training data

        COCO 2017 train, resized with random scale between 320 and 608, jitter and horizontal flips.

        ## Evaluation data and split

        Evaluated on COCO test-dev, the split of the paper's Table 3.

        ## Metrics against the paper

        AP 32.98 against the paper's 33.0 and AP50 57.86 against 57.9, mean over three seeds.

        ## Hardware

        One GPU per run, as recorded with each run.

        ## Limitations

        Small objects (APs) trail the larger ones, as in the paper.

        ## Licence

        The code under the team's licence; weights derived from the reference are under the reference's licence.

        ## Citation

        ```
        {authors}. {title}. {year}. {url}
        ```
        """;
}
