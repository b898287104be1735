using Portal.Web.Features.Account;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Tasks;

/// <summary>What a user may do with a task. The services enforce these; the board asks them only to choose buttons.</summary>
public static class TaskRules
{
    /// <summary>Members and leads take work; mentors advise and admins administer, so neither claims.</summary>
    public static bool CanClaim(Actor actor) => actor.IsMember || actor.IsLead;

    public static bool CanManage(Actor actor) => actor.IsLead;

    /// <summary>The actions the board offers on one row, in the order it shows them.</summary>
    public static IReadOnlyList<TaskAction> ActionsFor(Actor actor, ProjectTaskStatus status, string? assigneeId)
    {
        var mine = assigneeId == actor.UserId;
        var actions = new List<TaskAction>(3);
        switch (status)
        {
            case ProjectTaskStatus.Open when CanClaim(actor):
                actions.Add(TaskAction.Claim);
                break;
            case ProjectTaskStatus.Claimed:
                if (mine || CanManage(actor)) actions.Add(TaskAction.SubmitForReview);
                if (mine || CanManage(actor)) actions.Add(TaskAction.Unclaim);
                break;
            case ProjectTaskStatus.InReview:
                if (CanManage(actor)) actions.Add(TaskAction.Complete);
                if (mine || CanManage(actor)) actions.Add(TaskAction.Unclaim);
                break;
        }
        return actions;
    }

    /// <summary>
    /// The action that moves a task from one board column to another, if the rules have one for this actor:
    /// open to claimed claims, claimed to review submits, review to done completes, back to open unclaims.
    /// </summary>
    public static TaskAction? MoveAction(Actor actor, ProjectTaskStatus from, ProjectTaskStatus to, string? assigneeId)
    {
        TaskAction? action = (from, to) switch
        {
            (ProjectTaskStatus.Open, ProjectTaskStatus.Claimed) => TaskAction.Claim,
            (ProjectTaskStatus.Claimed, ProjectTaskStatus.InReview) => TaskAction.SubmitForReview,
            (ProjectTaskStatus.InReview, ProjectTaskStatus.Done) => TaskAction.Complete,
            (ProjectTaskStatus.Claimed or ProjectTaskStatus.InReview, ProjectTaskStatus.Open) => TaskAction.Unclaim,
            _ => null,
        };
        return action is { } a && ActionsFor(actor, from, assigneeId).Contains(a) ? a : null;
    }

    /// <summary>Why this actor cannot claim another task in a project now, or null when they can.</summary>
    public static string? ClaimBlockedReason(int held, int limit) => held >= limit
        ? $"You hold {held} of this project's limit of {limit} claimed tasks: finish or unclaim one before claiming another."
        : null;

    /// <summary>Which sub-team usually owns work on a component; the board's sub-team filter uses it.</summary>
    public static IReadOnlyList<ModelComponent> ComponentsOf(SubTeam team) => team switch
    {
        SubTeam.Modeling => [ModelComponent.Backbone, ModelComponent.Neck, ModelComponent.Head],
        SubTeam.Loss => [ModelComponent.Loss],
        SubTeam.DataPipeline => [ModelComponent.DataPipeline],
        _ => [ModelComponent.Infrastructure],
    };

}

public enum TaskAction { Claim, Unclaim, SubmitForReview, Complete }

/// <summary>What a lead types to create or edit a task. Validated by <see cref="Validate"/> before anything is stored.</summary>
public sealed class TaskForm
{
    public string Title { get; set; } = "";
    public string Description { get; set; } = "";
    public Projects.ReproductionStage Stage { get; set; } = Projects.ReproductionStage.PaperAnalysis;
    public ModelComponent Component { get; set; } = ModelComponent.Backbone;
    public double? EstimateHours { get; set; }

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Title)) throw PortalError.Validation("A task needs a title.");
        if (Title.Trim().Length > ProjectTaskConfiguration.MaxTitleLength)
            throw PortalError.Validation($"A title may have at most {ProjectTaskConfiguration.MaxTitleLength} characters (this one has {Title.Trim().Length}).");
        if ((Description ?? "").Length > ProjectTaskConfiguration.MaxDescriptionLength)
            throw PortalError.Validation($"A description may have at most {ProjectTaskConfiguration.MaxDescriptionLength:N0} characters (this one has {Description!.Length:N0}).");
        if (!Enum.IsDefined(Stage)) throw PortalError.Validation("Choose one of the nine stages.");
        if (!Enum.IsDefined(Component)) throw PortalError.Validation("Choose a component.");
        if (EstimateHours is { } e && (double.IsNaN(e) || e <= 0 || e > 1000))
            throw PortalError.Validation("An estimate is a number of hours between 0 and 1000.");
    }
}
