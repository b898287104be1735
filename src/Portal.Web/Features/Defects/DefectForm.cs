using Portal.Web.Features.Tasks;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Defects;

/// <summary>What a user fills in to report or edit a defect. Evidence links are checked against the project by the service.</summary>
public sealed class DefectForm
{
    public string Title { get; set; } = "";
    public string? Description { get; set; }
    public ModelComponent Component { get; set; }
    public string? OwnerId { get; set; }
    public ReporterKind Reporter { get; set; }
    public DefectManifestation Manifestation { get; set; }
    public DefectStage Stage { get; set; }
    public DefectImpact Impact { get; set; }
    public DefectType Type { get; set; }
    public RootCause RootCause { get; set; }
    public string? OtherText { get; set; }
    public long? RunId { get; set; }
    public string? FailingLayer { get; set; }
    public long? TaskId { get; set; }
    public long? DesignDocumentId { get; set; }
    public long? ChecklistItemId { get; set; }
    public long? DiscrepancyId { get; set; }

    public bool UsesOther =>
        Reporter == ReporterKind.Other || Manifestation == DefectManifestation.Other || Stage == DefectStage.Other
        || Impact == DefectImpact.Other || Type == DefectType.Other || RootCause == RootCause.Other;

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Title)) throw PortalError.Validation("A defect needs a title.");
        if (Title.Trim().Length > DefectConfiguration.MaxTitleLength)
            throw PortalError.Validation($"A defect's title can be at most {DefectConfiguration.MaxTitleLength} characters.");
        if ((Description?.Length ?? 0) > DefectConfiguration.MaxDescriptionLength)
            throw PortalError.Validation($"A defect's description can be at most {DefectConfiguration.MaxDescriptionLength:N0} characters.");
        if (!Enum.IsDefined(Component)) throw PortalError.Validation($"“{Component}” is not a component.");
        Check(DefectDimension.Reporter, (int)Reporter);
        Check(DefectDimension.Manifestation, (int)Manifestation);
        Check(DefectDimension.Stage, (int)Stage);
        Check(DefectDimension.Impact, (int)Impact);
        Check(DefectDimension.DefectType, (int)Type);
        Check(DefectDimension.RootCause, (int)RootCause);
        if (UsesOther && string.IsNullOrWhiteSpace(OtherText))
            throw PortalError.Validation("A dimension is set to “Other”: say what it is.");
        if ((OtherText?.Length ?? 0) > DefectConfiguration.MaxTextLength)
            throw PortalError.Validation($"The “other” text can be at most {DefectConfiguration.MaxTextLength:N0} characters.");
        if ((FailingLayer?.Length ?? 0) > DefectConfiguration.MaxTitleLength)
            throw PortalError.Validation($"A layer name can be at most {DefectConfiguration.MaxTitleLength} characters.");
    }

    private static void Check(DefectDimension dimension, int value)
    {
        if (!DefectTaxonomy.IsDefined(dimension, value))
            throw PortalError.Validation($"{value} is not a known {DefectTaxonomy.Title(dimension).ToLowerInvariant()}.");
    }
}
