using Microsoft.EntityFrameworkCore;
using Portal.Web.Data;
using Portal.Web.Features.Activity;
using Portal.Web.Features.Inbox;
using Portal.Web.Features.Projects;
using Portal.Web.Features.Tasks;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Analysis;

public sealed record ChecklistItemView(
    long Id, ChecklistSection Section, string Question, string Answer, string Source, ChecklistItemStatus Status,
    string? OwnerId, string? OwnerName, long? TaskId);

/// <summary>A project's paper-analysis checklists: answering items with their sources, owners, and turning items into board tasks.</summary>
public sealed class ChecklistService(IDbContextFactory<PortalDbContext> dbFactory, LiveUpdates live, InboxNotifier inbox, TimeProvider clock)
{
    public const int MaxTextLength = 4_000;

    public async Task<IReadOnlyList<ChecklistItemView>> ListAsync(long projectId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await (from i in db.ChecklistItems
                      where i.ProjectId == projectId
                      orderby i.Section, i.Position
                      select new ChecklistItemView(i.Id, i.Section, i.Question, i.Answer, i.Source, i.Status, i.OwnerId,
                          db.Users.Where(u => u.Id == i.OwnerId).Select(u => u.DisplayName).FirstOrDefault(), i.TaskId))
            .ToListAsync(ct);
    }

    /// <summary>Gives a project the template's checklists (for code that creates projects). Does nothing if it has some already.</summary>
    public async Task StartFromTemplateAsync(long projectId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, ct)) throw PortalError.NotFound($"There is no project {projectId}.");
        if (await ChecklistTemplate.AddToProjectAsync(db, projectId, clock.GetUtcNow(), ct))
        {
            await db.SaveChangesAsync(ct);
            live.Publish(Topics.Project(projectId));
        }
    }

    /// <summary>Records an answer and its source; an answer without a source is refused, an empty answer reopens the item.</summary>
    public async Task AnswerAsync(Actor actor, long itemId, string answer, string source, CancellationToken ct = default)
    {
        actor = await dbFactory.RefreshAsync(actor, ct);
        answer = (answer ?? "").Trim();
        source = (source ?? "").Trim();
        if (answer.Length > MaxTextLength || source.Length > MaxTextLength) throw PortalError.Validation($"Answers and sources are at most {MaxTextLength} characters.");
        if (answer.Length > 0 && source.Length == 0)
            throw PortalError.Validation("Say where the answer comes from: a paper section, table or equation, or a reference-code file and line.");

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var item = await FindAsync(db, itemId, ct);
        (item.Answer, item.Source) = (answer, source);
        item.Status = answer.Length == 0 ? ChecklistItemStatus.Open : ChecklistItemStatus.Answered;
        item.OwnerId ??= actor.UserId;
        item.UpdatedAt = clock.GetUtcNow();
        await db.SaveChangesAsync(ct);
        live.Publish(Topics.Project(item.ProjectId));
    }

    /// <summary>Anyone may take an unowned item or give up their own; only a lead assigns items to others or takes them over.</summary>
    public async Task SetOwnerAsync(Actor actor, long itemId, string? ownerId, CancellationToken ct = default)
    {
        actor = await dbFactory.RefreshAsync(actor, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var item = await FindAsync(db, itemId, ct);
        var selfService = (ownerId == actor.UserId && item.OwnerId is null) || (ownerId is null && item.OwnerId == actor.UserId);
        if (!selfService && !actor.IsLead)
            throw PortalError.Forbidden("Only a lead can assign an item to someone else or take it from its owner.");
        if (ownerId is not null && !await db.Users.AnyAsync(u => u.Id == ownerId && u.IsActive, ct))
            throw PortalError.NotFound("There is no such active user.");
        item.OwnerId = ownerId;
        item.UpdatedAt = clock.GetUtcNow();
        if (ownerId is not null)
            inbox.Add(db, ownerId, actor.UserId, NotificationKind.TaskAssigned,
                $"{actor.DisplayName} assigned you the paper-analysis item \"{item.Question}\"", $"/projects/{item.ProjectId}/analysis");
        await db.SaveChangesAsync(ct);
        if (ownerId is not null) inbox.Announce([ownerId]);
        live.Publish(Topics.Project(item.ProjectId));
    }

    /// <summary>Puts an open task for this item on the project's board, where members claim it like any other.</summary>
    public async Task<long> MakeTaskAsync(Actor actor, long itemId, ModelComponent component, CancellationToken ct = default)
    {
        actor = await dbFactory.RefreshAsync(actor, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var item = await FindAsync(db, itemId, ct);
        if (item.TaskId is not null) throw PortalError.Conflict("This item is already a task on the board.");
        if (item.Status == ChecklistItemStatus.Answered) throw PortalError.Conflict("This item is answered already; reopen it first.");

        var now = clock.GetUtcNow();
        // Two saves (the task's id is needed for the link), one transaction: the item never points at a missing task.
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var task = new ProjectTask
        {
            ProjectId = item.ProjectId, Title = $"Paper analysis: {item.Question}",
            DescriptionMarkdown = $"Answer the **{item.Section.Label()}** checklist item \"{item.Question}\" with its source " +
                                  $"(paper section, table or equation, or reference-code file and line) on the project's analysis page.\n\nCreated by {actor.DisplayName}.",
            Stage = ReproductionStage.PaperAnalysis, Component = component, Status = ProjectTaskStatus.Open, CreatedAt = now, UpdatedAt = now,
        };
        db.Tasks.Add(task);
        await db.SaveChangesAsync(ct);
        db.Activity.Add(new ActivityEntry
        {
            ProjectId = item.ProjectId, UserId = actor.UserId, Text = $"put the analysis item \"{item.Question}\" on the board",
            Link = ActivityLinks.Task(item.ProjectId, task.Id), At = now,
        });
        item.TaskId = task.Id;
        item.UpdatedAt = now;
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        live.Publish(Topics.Project(item.ProjectId));
        return task.Id;
    }

    private static async Task<ChecklistItem> FindAsync(PortalDbContext db, long itemId, CancellationToken ct) =>
        await db.ChecklistItems.FirstOrDefaultAsync(i => i.Id == itemId, ct) ?? throw PortalError.NotFound($"There is no checklist item {itemId}.");
}
