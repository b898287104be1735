using Portal.Web.Features.Tasks;

namespace Portal.Web.Features.Defects;

/// <summary>
/// A defect met while reengineering a model, classified on the six dimensions of the defect study, with the
/// evidence that shows it and the evidence that it is fixed.
/// </summary>
public sealed class Defect
{
    public long Id { get; set; }
    public long ProjectId { get; set; }
    public string Title { get; set; } = "";
    public string DescriptionMarkdown { get; set; } = "";
    public ModelComponent Component { get; set; }
    public DefectStatus Status { get; set; } = DefectStatus.Open;
    public string ReportedById { get; set; } = "";
    public string? OwnerId { get; set; }
    /// <summary>A blocking defect that is not closed stops a release of its component.</summary>
    public bool IsBlocking { get; set; }
    public bool IsDemo { get; set; }

    public ReporterKind Reporter { get; set; }
    public DefectManifestation Manifestation { get; set; }
    public DefectStage Stage { get; set; }
    public DefectImpact Impact { get; set; }
    public DefectType Type { get; set; }
    public RootCause RootCause { get; set; }
    /// <summary>What "other" means, required when any dimension is Other.</summary>
    public string? OtherText { get; set; }

    public long? RunId { get; set; }
    /// <summary>The first layer whose outputs differed, when the defect came from a differential run.</summary>
    public string? FailingLayer { get; set; }
    public long? TaskId { get; set; }
    public long? DesignDocumentId { get; set; }
    public long? ChecklistItemId { get; set; }
    public long? DiscrepancyId { get; set; }
    /// <summary>The environment record (hardware JSON) of <see cref="RunId"/>, copied when reported.</summary>
    public string? EnvironmentJson { get; set; }

    public string? Diagnosis { get; set; }
    public string? FixCommit { get; set; }
    public long? VerifyingRunId { get; set; }
    public string? WontFixReason { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public DateTimeOffset? ClosedAt { get; set; }
    public int Version { get; set; }

    public bool IsClosed => Status is DefectStatus.Verified or DefectStatus.WontFix;
}

public enum DefectStatus { Open, Diagnosed, Fixed, Verified, WontFix }
