using Portal.Web.Features.Projects;

namespace Portal.Web.Features.Releases;

/// <summary>
/// A model the team wants to publish from a project. Its gates are computed from the project's tasks, design
/// documents and runs every time they are read; nothing here says whether a gate passes.
/// </summary>
public sealed class Release
{
    public long Id { get; set; }
    public long ProjectId { get; set; }
    public string Name { get; set; } = "";
    public string Version { get; set; } = "";
    /// <summary>e.g. "416 GPU" or "static shapes for TPU".</summary>
    public string Variant { get; set; } = "";
    public string Commit { get; set; } = "";

    /// <summary>Stages whose every task must be Done.</summary>
    public List<ReproductionStage> RequiredStages { get; set; } = [.. ReleaseDefaults.RequiredStages];

    /// <summary>How many qualifying runs with different seeds the seeds gate asks for.</summary>
    public int MinSeeds { get; set; } = ReleaseDefaults.MinSeeds;

    /// <summary>How many of the project's leads must approve.</summary>
    public int RequiredApprovals { get; set; } = ReleaseDefaults.RequiredApprovals;

    /// <summary>A stricter (or looser) tolerance for this release; the project's when null.</summary>
    public double? Tolerance { get; set; }

    public string ModelCardMarkdown { get; set; } = "";

    public ReleaseStatus Status { get; set; } = ReleaseStatus.Draft;
    public string CreatedById { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? PublishedAt { get; set; }
    public string? PublishedById { get; set; }
    /// <summary>The fingerprint of the evidence the release was frozen with.</summary>
    public string? PublishedFingerprint { get; set; }
    /// <summary>Bundle path relative to the data folder.</summary>
    public string? BundlePath { get; set; }
    public string? BundleSha256 { get; set; }

    /// <summary>Optimistic concurrency: two leads acting at once cannot both count against a stale state.</summary>
    public int RowVersion { get; set; }

    public List<ReleaseRun> Runs { get; set; } = [];
    public List<ReleaseApproval> Approvals { get; set; } = [];
}

public enum ReleaseStatus { Draft, Published }

public static class ReleaseDefaults
{
    public static readonly ReproductionStage[] RequiredStages =
        [ReproductionStage.Implementation, ReproductionStage.DifferentialTesting, ReproductionStage.Training, ReproductionStage.Evaluation];
    public const int MinSeeds = 3;
    public const int RequiredApprovals = 2;
}

/// <summary>An evaluation run the release rests on.</summary>
public sealed class ReleaseRun
{
    public long ReleaseId { get; set; }
    public long RunId { get; set; }
}

public enum ReleaseDecision { Approve, Reject }

/// <summary>
/// A lead's approval or rejection, bound to the evidence fingerprint it was given on. When the evidence changes
/// the decision is cleared (kept, with the time) so the audit trail still shows it.
/// </summary>
public sealed class ReleaseApproval
{
    public long Id { get; set; }
    public long ReleaseId { get; set; }
    public string LeadId { get; set; } = "";
    public ReleaseDecision Decision { get; set; }
    public string? Reason { get; set; }
    public string EvidenceFingerprint { get; set; } = "";
    public DateTimeOffset At { get; set; }
    public DateTimeOffset? ClearedAt { get; set; }

    public bool IsStanding => ClearedAt is null;
}

/// <summary>Who did what to a release, when, and on which evidence. Mentors' comments are entries too.</summary>
public sealed class ReleaseAuditEntry
{
    public long Id { get; set; }
    public long ReleaseId { get; set; }
    public string UserId { get; set; } = "";
    public string Action { get; set; } = "";
    public string Detail { get; set; } = "";
    public string EvidenceFingerprint { get; set; } = "";
    public DateTimeOffset At { get; set; }
}

public static class ReleaseActions
{
    public const string Created = "created";
    public const string Edited = "edited";
    public const string RunsChosen = "runs chosen";
    public const string CardEdited = "model card edited";
    public const string Approved = "approved";
    public const string Rejected = "rejected";
    public const string Cleared = "decision cleared";
    public const string Commented = "commented";
    public const string Published = "published";
}
