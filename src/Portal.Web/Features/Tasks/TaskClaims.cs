using Microsoft.EntityFrameworkCore;
using Portal.Web.Data;
using Portal.Web.Features.Account;
using Portal.Web.Features.Activity;
using Portal.Web.Features.Inbox;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Tasks;

/// <summary>
/// Who holds a task: claim, unclaim, assign, and moving held work through review to done.
/// A claim is one conditional UPDATE (the task is still open and the claimer is under the project's limit)
/// inside a write transaction, so of two claims at the same moment exactly one changes the row.
/// </summary>
public sealed class TaskClaims(
    IDbContextFactory<PortalDbContext> dbFactory, ActivityLog activity, InboxNotifier inbox, LiveUpdates live, TimeProvider clock)
{
    public async Task ClaimAsync(Actor actor, long taskId, CancellationToken cancellationToken = default)
    {
        actor = await dbFactory.RefreshAsync(actor, cancellationToken);
        if (!TaskRules.CanClaim(actor)) throw PortalError.Forbidden("Only members and leads claim tasks.");
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        // Microsoft.Data.Sqlite begins IMMEDIATE: the write lock is taken here, so the check and the write cannot interleave.
        // On PostgreSQL a lock per member does the same, whichever instance the claims come through.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.LockAsync("task-holder:" + actor.UserId, cancellationToken);
        var target = await FindAsync(db, taskId, cancellationToken);

        var changed = await HoldAsync(db, taskId, actor.UserId, target.Limit, cancellationToken);
        if (changed == 0) throw await ExplainRefusalAsync(db, taskId, actor.UserId, actor.UserId, target.Limit, cancellationToken);

        activity.Add(db, target.ProjectId, actor.UserId, $"claimed “{target.Title}”", ActivityLinks.Task(target.ProjectId, taskId));
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        live.Publish(Topics.Project(target.ProjectId));
    }

    /// <summary>A lead gives a task to someone (or moves it from one person to another); the new holder is notified.</summary>
    public async Task AssignAsync(Actor actor, long taskId, string assigneeId, CancellationToken cancellationToken = default)
    {
        actor = await dbFactory.RefreshAsync(actor, cancellationToken);
        actor.RequireLead("assign tasks");
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.LockAsync("task-holder:" + assigneeId, cancellationToken);
        var target = await FindAsync(db, taskId, cancellationToken);
        var assignee = await db.Users.AsNoTracking().Where(u => u.Id == assigneeId).Select(u => new { u.DisplayName, u.IsActive }).FirstOrDefaultAsync(cancellationToken)
                       ?? throw PortalError.NotFound("There is no such user to assign the task to.");
        if (!assignee.IsActive) throw PortalError.Validation($"{assignee.DisplayName} is deactivated and cannot take tasks.");
        var canHold = await (from ur in db.UserRoles join r in db.Roles on ur.RoleId equals r.Id
                             where ur.UserId == assigneeId && (r.Name == Roles.Member || r.Name == Roles.Lead) select ur).AnyAsync(cancellationToken);
        if (!canHold) throw PortalError.Validation($"{assignee.DisplayName} is neither a member nor a lead and cannot take tasks.");

        var changed = await HoldAsync(db, taskId, assigneeId, target.Limit, cancellationToken, allowReassign: true);
        if (changed == 0) throw await ExplainRefusalAsync(db, taskId, assigneeId, actor.UserId, target.Limit, cancellationToken);

        activity.Add(db, target.ProjectId, actor.UserId, $"assigned “{target.Title}” to {assignee.DisplayName}", ActivityLinks.Task(target.ProjectId, taskId));
        inbox.Add(db, assigneeId, actor.UserId, NotificationKind.TaskAssigned,
            $"{actor.DisplayName} assigned you “{target.Title}”", $"/projects/{target.ProjectId}/board?task={taskId}");
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        live.Publish(Topics.Project(target.ProjectId));
        inbox.Announce([assigneeId]);
    }

    /// <summary>The holder or a lead gives the task back: it is open again and counts against nobody's limit.</summary>
    public Task UnclaimAsync(Actor actor, long taskId, CancellationToken cancellationToken = default) =>
        ChangeHeldAsync(actor, taskId, TaskAction.Unclaim, cancellationToken);

    public Task SubmitForReviewAsync(Actor actor, long taskId, CancellationToken cancellationToken = default) =>
        ChangeHeldAsync(actor, taskId, TaskAction.SubmitForReview, cancellationToken);

    public Task CompleteAsync(Actor actor, long taskId, CancellationToken cancellationToken = default) =>
        ChangeHeldAsync(actor, taskId, TaskAction.Complete, cancellationToken);

    private async Task ChangeHeldAsync(Actor actor, long taskId, TaskAction action, CancellationToken cancellationToken)
    {
        actor = await dbFactory.RefreshAsync(actor, cancellationToken);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var task = await db.Tasks.FirstOrDefaultAsync(t => t.Id == taskId, cancellationToken)
                   ?? throw PortalError.NotFound($"There is no task {taskId}.");
        if (!TaskRules.ActionsFor(actor, task.Status, task.AssigneeId).Contains(action))
            throw Refusal(actor, task, action);

        var text = action switch
        {
            TaskAction.Unclaim => $"unclaimed “{task.Title}”",
            TaskAction.SubmitForReview => $"sent “{task.Title}” to review",
            _ => $"marked “{task.Title}” done",
        };
        (task.Status, task.AssigneeId) = action switch
        {
            TaskAction.Unclaim => (ProjectTaskStatus.Open, (string?)null),
            TaskAction.SubmitForReview => (ProjectTaskStatus.InReview, task.AssigneeId),
            _ => (ProjectTaskStatus.Done, task.AssigneeId),
        };
        task.Version++;
        task.UpdatedAt = clock.GetUtcNow();
        activity.Add(db, task.ProjectId, actor.UserId, text, ActivityLinks.Task(task.ProjectId, task.Id));
        try { await db.SaveChangesAsync(cancellationToken); }
        catch (DbUpdateConcurrencyException)
        {
            throw PortalError.Conflict($"“{task.Title}” was changed by someone else a moment ago. Look at the board again and retry.");
        }
        live.Publish(Topics.Project(task.ProjectId));
    }

    private static PortalError Refusal(Actor actor, ProjectTask task, TaskAction action)
    {
        var isHolder = task.AssigneeId == actor.UserId;
        return (action, task.Status) switch
        {
            (_, ProjectTaskStatus.Done) => PortalError.Conflict($"“{task.Title}” is done; nothing more can change on it."),
            (TaskAction.Unclaim, ProjectTaskStatus.Open) => PortalError.Conflict($"“{task.Title}” is not claimed by anyone."),
            (TaskAction.SubmitForReview, ProjectTaskStatus.InReview) => PortalError.Conflict($"“{task.Title}” is already in review."),
            (TaskAction.Complete, not ProjectTaskStatus.InReview) when actor.IsLead => PortalError.Conflict($"“{task.Title}” must be in review before it is done."),
            (TaskAction.Complete, _) => PortalError.Forbidden("Only a lead marks a task done."),
            (_, ProjectTaskStatus.Open) => PortalError.Conflict($"Claim “{task.Title}” first."),
            _ when !isHolder => PortalError.Forbidden($"“{task.Title}” is held by someone else; only they or a lead can change it."),
            _ => PortalError.Conflict($"“{task.Title}” cannot go to that state from {task.Status.Label()}."),
        };
    }

    private sealed record Target(long ProjectId, string Title, int Limit);

    private static async Task<Target> FindAsync(PortalDbContext db, long taskId, CancellationToken cancellationToken) =>
        await db.Tasks.AsNoTracking().Where(t => t.Id == taskId)
            .Select(t => new Target(t.ProjectId, t.Title, db.Projects.Where(p => p.Id == t.ProjectId).Select(p => p.ClaimLimitPerMember).First()))
            .FirstOrDefaultAsync(cancellationToken)
        ?? throw PortalError.NotFound($"There is no task {taskId}.");

    /// <summary>
    /// The one statement that gives a task to <paramref name="holderId"/>: only if the task can be held (open, or for an
    /// assignment anything not done) and the holder holds fewer than <paramref name="limit"/> other tasks in the project.
    /// </summary>
    private async Task<int> HoldAsync(PortalDbContext db, long taskId, string holderId, int limit, CancellationToken cancellationToken, bool allowReassign = false)
    {
        var now = clock.GetUtcNow();
        return await db.Tasks
            .Where(t => t.Id == taskId
                        && (t.Status == ProjectTaskStatus.Open || (allowReassign && t.Status != ProjectTaskStatus.Done && t.AssigneeId != holderId))
                        && db.Tasks.Count(o => o.ProjectId == t.ProjectId && o.Id != t.Id && o.AssigneeId == holderId
                                               && (o.Status == ProjectTaskStatus.Claimed || o.Status == ProjectTaskStatus.InReview)) < limit)
            .ExecuteUpdateAsync(s => s
                .SetProperty(t => t.Status, t => t.Status == ProjectTaskStatus.Open ? ProjectTaskStatus.Claimed : t.Status)
                .SetProperty(t => t.AssigneeId, holderId)
                .SetProperty(t => t.Version, t => t.Version + 1)
                .SetProperty(t => t.UpdatedAt, now), cancellationToken);
    }

    /// <summary>Says why the conditional update changed nothing, reading the row as it is now.</summary>
    private static async Task<PortalError> ExplainRefusalAsync(PortalDbContext db, long taskId, string holderId, string actingUserId, int limit, CancellationToken cancellationToken)
    {
        var task = await db.Tasks.AsNoTracking().FirstAsync(t => t.Id == taskId, cancellationToken);
        var self = holderId == actingUserId;
        if (task.Status == ProjectTaskStatus.Done)
            return PortalError.Conflict($"“{task.Title}” is done and cannot be claimed.");
        if (task.AssigneeId == holderId)
            return PortalError.Conflict(self ? $"You already hold “{task.Title}”." : $"“{task.Title}” is already assigned to that person.");
        if (task.Status != ProjectTaskStatus.Open && self)
        {
            var holder = await db.Users.Where(u => u.Id == task.AssigneeId).Select(u => u.DisplayName).FirstOrDefaultAsync(cancellationToken) ?? "someone";
            return PortalError.Conflict($"“{task.Title}” was just claimed by {holder}.");
        }
        return PortalError.Conflict(self
            ? $"You already hold {limit} claimed tasks in this project, which is its limit. Finish or unclaim one before claiming another."
            : $"That person already holds {limit} claimed tasks in this project, which is its limit.");
    }
}
