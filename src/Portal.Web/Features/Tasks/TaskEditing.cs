using Microsoft.EntityFrameworkCore;
using Portal.Web.Data;
using Portal.Web.Features.Activity;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Tasks;

/// <summary>Leads create and edit tasks. An edit names the version it was made against; an older one is refused.</summary>
public sealed class TaskEditing(
    IDbContextFactory<PortalDbContext> dbFactory, ActivityLog activity, LiveUpdates live, MarkdownRenderer markdown, TimeProvider clock)
{
    public async Task<long> CreateAsync(Actor actor, long projectId, TaskForm form, CancellationToken cancellationToken = default)
    {
        actor = await dbFactory.RefreshAsync(actor, cancellationToken);
        actor.RequireLead("create tasks");
        Validate(form);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, cancellationToken))
            throw PortalError.NotFound($"There is no project {projectId}.");
        var now = clock.GetUtcNow();
        var task = new ProjectTask
        {
            ProjectId = projectId, Title = form.Title.Trim(), DescriptionMarkdown = form.Description ?? "", Stage = form.Stage,
            Component = form.Component, EstimateHours = form.EstimateHours, CreatedAt = now, UpdatedAt = now,
        };
        // The activity entry links to the task, so it needs the task's id: two saves, one transaction.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        db.Tasks.Add(task);
        await db.SaveChangesAsync(cancellationToken);
        activity.Add(db, projectId, actor.UserId, $"created “{task.Title}”", ActivityLinks.Task(projectId, task.Id));
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        live.Publish(Topics.Project(projectId));
        return task.Id;
    }

    public async Task UpdateAsync(Actor actor, long taskId, int expectedVersion, TaskForm form, CancellationToken cancellationToken = default)
    {
        actor = await dbFactory.RefreshAsync(actor, cancellationToken);
        actor.RequireLead("edit tasks");
        Validate(form);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var task = await db.Tasks.FirstOrDefaultAsync(t => t.Id == taskId, cancellationToken)
                   ?? throw PortalError.NotFound($"There is no task {taskId}.");
        if (task.Version != expectedVersion)
            throw PortalError.Conflict($"“{task.Title}” was changed after you opened it. Reopen it to see the changes, then edit again.");

        task.Title = form.Title.Trim();
        task.DescriptionMarkdown = form.Description ?? "";
        task.Stage = form.Stage;
        task.Component = form.Component;
        task.EstimateHours = form.EstimateHours;
        task.UpdatedAt = clock.GetUtcNow();
        task.Version++;
        activity.Add(db, task.ProjectId, actor.UserId, $"edited “{task.Title}”", ActivityLinks.Task(task.ProjectId, task.Id));
        try { await db.SaveChangesAsync(cancellationToken); }
        catch (DbUpdateConcurrencyException)
        {
            throw PortalError.Conflict($"“{task.Title}” was changed by someone else while you saved. Reopen it and edit again.");
        }
        live.Publish(Topics.Project(task.ProjectId));
    }

    private void Validate(TaskForm form)
    {
        form.Validate();
        var unsafeParts = markdown.FindUnsafeParts(form.Description);
        if (unsafeParts.Count > 0)
            throw PortalError.Validation($"The description contains {string.Join(", ", unsafeParts)}, which is not allowed. Remove it and save again.");
    }
}
