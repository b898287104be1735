using Portal.Web.Features.Account;
using Portal.Web.Features.Analysis;
using Portal.Web.Features.Curves;
using Portal.Web.Features.Design;
using Portal.Web.Features.Inbox;
using Portal.Web.Features.Projects;
using Portal.Web.Features.Tasks;

namespace Portal.Web.Features;

/// <summary>How the portal names its enum values to people, in one place for pages, services and messages alike.</summary>
public static class DisplayNames
{
    public static string Label(this ReproductionStage stage) => stage switch
    {
        ReproductionStage.ModelSelection => "0 · Model selection",
        ReproductionStage.PaperAnalysis => "1 · Paper analysis",
        ReproductionStage.Design => "2 · Design",
        ReproductionStage.Implementation => "3 · Implementation",
        ReproductionStage.DifferentialTesting => "4 · Differential testing",
        ReproductionStage.Training => "5 · Integration and training",
        ReproductionStage.Evaluation => "6 · Evaluation",
        ReproductionStage.Portability => "7 · Portability",
        ReproductionStage.Release => "8 · Code review and release",
        _ => stage.ToString(),
    };

    /// <summary>The stage's name for a sentence, without its number.</summary>
    public static string Name(this ReproductionStage stage) => stage.Label() is var label && label.IndexOf(" · ", StringComparison.Ordinal) is var at and >= 0
        ? label[(at + 3)..]
        : label;

    /// <summary>"1 claim", "2 claims": a count with its noun in the right number.</summary>
    public static string Count(int count, string noun, string? plural = null) =>
        $"{count} {(count == 1 ? noun : plural ?? noun + "s")}";

    /// <summary>"The claim" for one, "All 3 claims" for more.</summary>
    public static string AllOf(int count, string noun, string? plural = null) =>
        count == 1 ? $"The {noun}" : $"All {count} {plural ?? noun + "s"}";

    public static string Label(this ProjectTaskStatus status) => status switch
    {
        ProjectTaskStatus.InReview => "In review",
        _ => status.ToString(),
    };

    public static string Label(this ModelComponent component) => component switch
    {
        ModelComponent.DataPipeline => "Data pipeline",
        ModelComponent.Neck => "Neck (decoder)",
        _ => component.ToString(),
    };

    public static string Label(this TaskAction action) => action switch
    {
        TaskAction.SubmitForReview => "To review",
        TaskAction.Complete => "Done",
        _ => action.ToString(),
    };

    public static string Label(this SubTeam team) => team == SubTeam.DataPipeline ? "Data pipeline" : team.ToString();

    public static string Label(this ChecklistSection section) => section switch
    {
        ChecklistSection.General => "General",
        ChecklistSection.ModelAndDesign => "Model and design",
        _ => "Training and evaluation",
    };

    public static string Label(this DesignDocumentState state) => state switch
    {
        DesignDocumentState.Draft => "draft",
        DesignDocumentState.InReview => "in review",
        DesignDocumentState.ChangesRequested => "changes requested",
        _ => "approved",
    };

    public static string Label(this NotificationKind kind) => kind switch
    {
        NotificationKind.ReviewRequested => "Review requested",
        NotificationKind.CommentOnYourDocument => "Comment on your document",
        NotificationKind.TaskAssigned => "Task assigned to you",
        NotificationKind.RunAnnotated => "Run annotated",
        NotificationKind.Defect => "Defect",
        _ => "Release decision",
    };

    public static string Label(this AnnotationState state) => state switch
    {
        AnnotationState.NeedsChange => "needs change",
        AnnotationState.Accepted => "accepted",
        _ => "open",
    };
}
