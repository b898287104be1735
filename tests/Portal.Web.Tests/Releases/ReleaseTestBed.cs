using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Portal.Web;
using Portal.Web.Data;
using Portal.Web.Features.Account;
using Portal.Web.Features.Design;
using Portal.Web.Features.Inbox;
using Portal.Web.Features.Projects;
using Portal.Web.Features.Releases;
using Portal.Web.Features.Runs;
using Portal.Web.Features.Tasks;
using Portal.Web.Infrastructure;

using Portal.Web.Tests.Testing;

namespace Portal.Web.Tests.Releases;

/// <summary>
/// The portal's services over a fresh database (<see cref="PortalTestHost"/>) with two leads, a mentor, two members and one project that claims
/// AP 40.0 and AP50 60.0 on COCO test-dev. Tests create the evidence rows themselves.
/// </summary>
public sealed class ReleaseTestBed : PortalTestHost, IAsyncLifetime
{
    public IDbContextFactory<PortalDbContext> Db => DbFactory;
    public ReleaseService Releases => Get<ReleaseService>();
    public ReleaseSignOff SignOff => Get<ReleaseSignOff>();
    public ReleasePublisher Publisher => Get<ReleasePublisher>();
    public Portal.Web.Features.Reproducibility.ReproducibilityService Reproducibility => Get<Portal.Web.Features.Reproducibility.ReproducibilityService>();
    public ProjectEditing ProjectEditing => Get<ProjectEditing>();
    public long ProjectId { get; private set; }

    public Actor Lead1 { get; } = new("lead-1", "Lea One", new HashSet<string> { Roles.Lead });
    public Actor Lead2 { get; } = new("lead-2", "Leo Two", new HashSet<string> { Roles.Lead });
    public Actor Mentor { get; } = new("mentor-1", "Mina Mentor", new HashSet<string> { Roles.Mentor });
    public Actor Member1 { get; } = new("member-1", "Max Member", new HashSet<string> { Roles.Member });
    public Actor Member2 { get; } = new("member-2", "Mia Member", new HashSet<string> { Roles.Member });

    public async Task InitializeAsync()
    {
        foreach (var a in new[] { Lead1, Lead2, Mentor, Member1, Member2 })
            await AddUserAsync(a.UserId, a.Roles, a.DisplayName, id: a.UserId);
        await using var seed = await Db.CreateDbContextAsync();
        var project = new Project
        {
            Name = "TinyDet", Summary = "A tiny detector.", PaperTitle = "TinyDet: small and fast", PaperAuthors = "A. Author", PaperYear = 2024,
            PaperUrl = "https://example.org/tinydet", Tolerance = 0.5, Stage = ReproductionStage.Evaluation, CreatedAt = DateTimeOffset.UtcNow,
            Claims =
            [
                new PaperClaim { Metric = "AP", Dataset = "COCO", Split = "test-dev", Value = 40.0, Source = "Table 1" },
                new PaperClaim { Metric = "AP50", Dataset = "COCO", Split = "test-dev", Value = 60.0, Source = "Table 1" },
            ],
        };
        seed.Projects.Add(project);
        await seed.SaveChangesAsync();
        ProjectId = project.Id;
    }

    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();

    public static ReleaseInput Input(string version = "1.0", double? tolerance = null, int minSeeds = 3) =>
        new("TinyDet", version, "416 GPU", "abc1234", ReleaseDefaults.RequiredStages, minSeeds, 2, tolerance);

    public Task<long> CreateReleaseAsync(string version = "1.0") => Releases.CreateAsync(Lead1, ProjectId, Input(version));

    public async Task<long> AddRunAsync(int seed, string startedBy, double ap, double ap50, string split = "test-dev",
        RunStatus status = RunStatus.Succeeded, string commit = "abc1234", bool checkpoint = false)
    {
        await using var db = await Db.CreateDbContextAsync();
        var now = DateTimeOffset.UtcNow;
        var run = new Run
        {
            ProjectId = ProjectId, Recipe = "detector", Seed = seed, Commit = commit, Dataset = "COCO", Split = split, Status = status,
            StartedById = startedBy, QueuedAt = now, StartedAt = now.AddTicks(seed), EndedAt = now.AddHours(1), ConfigJson = $$"""{"seed": {{seed}}}""",
            FinalMetrics = [new RunFinalMetric { Name = "AP", Value = ap }, new RunFinalMetric { Name = "AP50", Value = ap50 }],
        };
        db.Runs.Add(run);
        await db.SaveChangesAsync();
        if (checkpoint)
        {
            var relative = Path.Combine("artifacts", $"run-{run.Id}.ckpt");
            Directory.CreateDirectory(Path.Combine(DataDirectory, "artifacts"));
            await File.WriteAllBytesAsync(Path.Combine(DataDirectory, relative), [1, 2, 3, (byte)run.Id]);
            await File.WriteAllTextAsync(Path.Combine(DataDirectory, "artifacts", $"run-{run.Id}.json"), $$"""{"lr": 0.01, "seed": {{seed}}}""");
            db.RunArtifacts.AddRange(
                new RunArtifact { RunId = run.Id, Kind = "checkpoint", FileName = "model.ckpt", StoragePath = relative, SizeBytes = 4, Step = 100, CreatedAt = now },
                new RunArtifact { RunId = run.Id, Kind = "config", FileName = "config.json", StoragePath = Path.Combine("artifacts", $"run-{run.Id}.json"), CreatedAt = now });
            await db.SaveChangesAsync();
        }
        return run.Id;
    }

    /// <summary>A finished differential run with the metrics an agent reports (passed, tensors, outOfTolerance).</summary>
    public async Task<long> AddDifferentialRunAsync(bool passed, string commit = "abc1234", RunStatus status = RunStatus.Succeeded)
    {
        await using var db = await Db.CreateDbContextAsync();
        var now = DateTimeOffset.UtcNow;
        var run = new Run
        {
            ProjectId = ProjectId, Recipe = "differential", Commit = commit, Dataset = "reference inputs", Split = "fixed", Status = status,
            StartedById = Member1.UserId, QueuedAt = now, StartedAt = now, EndedAt = now.AddMinutes(1), ConfigJson = "{}",
            FinalMetrics = status == RunStatus.Succeeded
                ? [new RunFinalMetric { Name = "passed", Value = passed ? 1 : 0 }, new RunFinalMetric { Name = "tensors", Value = 178 },
                   new RunFinalMetric { Name = "outOfTolerance", Value = passed ? 0 : 174 }]
                : [],
        };
        db.Runs.Add(run);
        await db.SaveChangesAsync();
        return run.Id;
    }

    public async Task<long> AddTaskAsync(ReproductionStage stage, ModelComponent component, ProjectTaskStatus status)
    {
        await using var db = await Db.CreateDbContextAsync();
        var task = new ProjectTask { ProjectId = ProjectId, Title = $"{component} work", Stage = stage, Component = component, Status = status, CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow };
        db.Tasks.Add(task);
        await db.SaveChangesAsync();
        return task.Id;
    }

    public async Task SetTaskStatusAsync(long taskId, ProjectTaskStatus status)
    {
        await using var db = await Db.CreateDbContextAsync();
        await db.Tasks.Where(t => t.Id == taskId).ExecuteUpdateAsync(s => s.SetProperty(t => t.Status, status));
    }

    /// <summary>A design document with <paramref name="versions"/> versions, reviewed by lead 1, approved at version <paramref name="approvedAt"/>.</summary>
    public async Task<long> AddDesignAsync(ModelComponent component, int versions = 1, int? approvedAt = 1)
    {
        await using var db = await Db.CreateDbContextAsync();
        var doc = new DesignDocument
        {
            ProjectId = ProjectId, Component = component, Title = $"{component} design", AuthorId = Member1.UserId, CreatedAt = DateTimeOffset.UtcNow,
            Versions = Enumerable.Range(1, versions).Select(n => new DesignDocumentVersion { Number = n, Markdown = $"v{n}", AuthorId = Member1.UserId, CreatedAt = DateTimeOffset.UtcNow }).ToList(),
            ReviewRequests = [new ReviewRequest { ReviewerId = Lead1.UserId, RequestedAt = DateTimeOffset.UtcNow }],
        };
        db.DesignDocuments.Add(doc);
        await db.SaveChangesAsync();
        if (approvedAt is { } v)
        {
            db.ReviewVerdicts.Add(new ReviewVerdict { DocumentId = doc.Id, VersionNumber = v, ReviewerId = Lead1.UserId, Verdict = Verdict.Approve, At = DateTimeOffset.UtcNow });
            await db.SaveChangesAsync();
        }
        return doc.Id;
    }

    public const string FilledCard = """
        # TinyDet 1.0
        ## Description
        A tiny detector.
        ## Intended use
        Research on small detectors.
        ## Training data
        COCO train2017.
        ## Evaluation data and split
        COCO test-dev.
        ## Metrics against the paper
        AP 40.1 vs 40.0.
        ## Hardware
        1x A100.
        ## Limitations
        Small objects.
        ## Licence
        Apache-2.0.
        ## Citation
        A. Author. TinyDet. 2024.
        """;

    /// <summary>Everything every gate but sign-off asks for: tasks done, design approved, three seeds by two people, a filled card.</summary>
    public async Task<long> CompleteEvidenceAsync(long releaseId, bool checkpoint = true)
    {
        await AddTaskAsync(ReproductionStage.Implementation, ModelComponent.Backbone, ProjectTaskStatus.Done);
        await AddDesignAsync(ModelComponent.Backbone);
        var runs = new[]
        {
            await AddRunAsync(1, Member1.UserId, 39.8, 59.9, checkpoint: checkpoint),
            await AddRunAsync(2, Member1.UserId, 40.1, 60.2, checkpoint: checkpoint),
            await AddRunAsync(3, Member2.UserId, 40.3, 60.1, checkpoint: checkpoint),
        };
        await Releases.ChooseRunsAsync(Lead1, releaseId, runs);
        await Releases.SaveModelCardAsync(Lead1, releaseId, FilledCard);
        await AddDifferentialRunAsync(passed: true);
        return runs[0];
    }
}
