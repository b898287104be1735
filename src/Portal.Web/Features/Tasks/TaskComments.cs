using Microsoft.EntityFrameworkCore;
using Portal.Web.Data;
using Portal.Web.Features.Activity;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Tasks;

/// <summary>One comment as a task's panel shows it: the Markdown already rendered through the portal's one safe policy.</summary>
public sealed record TaskCommentView(long Id, long TaskId, string AuthorId, string AuthorName, string BodyHtml, DateTimeOffset CreatedAt);

/// <summary>
/// Comments on tasks. Every active account may comment, as on design documents and the paper analysis: the whole team
/// (mentors included) discusses the work. Only the author removes a comment. A change publishes the task's topic, for
/// the open panels, and the project's, for the activity feed.
/// </summary>
public sealed class TaskComments(
    IDbContextFactory<PortalDbContext> dbFactory, ActivityLog activity, LiveUpdates live, MarkdownRenderer markdown, TimeProvider clock)
{
    public const int MaxBodyLength = TaskCommentConfiguration.MaxBodyLength;

    public async Task<long> AddAsync(Actor actor, long taskId, string body, CancellationToken cancellationToken = default)
    {
        actor = await dbFactory.RefreshAsync(actor, cancellationToken);
        body = Validate(body);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var task = await db.Tasks.AsNoTracking().Where(t => t.Id == taskId).Select(t => new { t.ProjectId, t.Title }).FirstOrDefaultAsync(cancellationToken)
                   ?? throw PortalError.NotFound($"There is no task {taskId}.");
        var comment = new TaskComment { TaskId = taskId, AuthorId = actor.UserId, BodyMarkdown = body, CreatedAt = clock.GetUtcNow() };
        db.TaskComments.Add(comment);
        activity.Add(db, task.ProjectId, actor.UserId, $"commented on “{task.Title}”", ActivityLinks.Task(task.ProjectId, taskId));
        await db.SaveChangesAsync(cancellationToken);
        live.Publish(Topics.Task(taskId), Topics.Project(task.ProjectId));
        return comment.Id;
    }

    public async Task DeleteAsync(Actor actor, long commentId, CancellationToken cancellationToken = default)
    {
        actor = await dbFactory.RefreshAsync(actor, cancellationToken);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var comment = await db.TaskComments.FirstOrDefaultAsync(c => c.Id == commentId, cancellationToken)
                      ?? throw PortalError.NotFound("That comment does not exist or was already removed.");
        if (comment.AuthorId != actor.UserId) throw PortalError.Forbidden("Only the comment's author can remove it.");
        var projectId = await db.Tasks.Where(t => t.Id == comment.TaskId).Select(t => t.ProjectId).FirstAsync(cancellationToken);
        db.TaskComments.Remove(comment);
        await db.SaveChangesAsync(cancellationToken);
        live.Publish(Topics.Task(comment.TaskId), Topics.Project(projectId));
    }

    /// <summary>A task's comments, oldest first, as a conversation reads.</summary>
    public async Task<IReadOnlyList<TaskCommentView>> ListAsync(long taskId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var rows = await (
                from c in db.TaskComments.AsNoTracking()
                where c.TaskId == taskId
                join u in db.Users on c.AuthorId equals u.Id
                orderby c.Id
                select new { c.Id, c.AuthorId, u.DisplayName, c.BodyMarkdown, c.CreatedAt })
            .ToListAsync(cancellationToken);
        return rows.Select(r => new TaskCommentView(r.Id, taskId, r.AuthorId, r.DisplayName, markdown.ToSafeHtml(r.BodyMarkdown), r.CreatedAt)).ToList();
    }

    /// <summary>The checks a comment passes before it is stored; the form shows the message on its field.</summary>
    public string Validate(string? body)
    {
        body = (body ?? "").Trim();
        if (body.Length == 0) throw PortalError.Validation("Write the comment first.");
        if (body.Length > MaxBodyLength)
            throw PortalError.Validation($"A comment may have at most {MaxBodyLength:N0} characters (this one has {body.Length:N0}). Put longer text in the task's description or a design document.");
        var unsafeParts = markdown.FindUnsafeParts(body);
        if (unsafeParts.Count > 0)
            throw PortalError.Validation($"The comment contains {string.Join(", ", unsafeParts)}, which is not allowed. Remove it and post again.");
        return body;
    }
}
