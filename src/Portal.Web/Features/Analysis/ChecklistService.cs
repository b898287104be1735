using Microsoft.EntityFrameworkCore;
using Portal.Web.Data;
using Portal.Web.Features.Activity;
using Portal.Web.Features.Inbox;
using Portal.Web.Features.Projects;
using Portal.Web.Features.Tasks;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Analysis;

/// <summary>
/// A checklist item as listed. AnswerRevision is the revision the reader sees (pass it back when saving);
/// AnsweredById/Name and AnsweredAt say who wrote the current answer and when (null when nobody has, or for answers
/// older than the history).
/// </summary>
public sealed record ChecklistItemView(
    long Id, ChecklistSection Section, string Question, string Answer, string Source, ChecklistItemStatus Status,
    string? OwnerId, string? OwnerName, long? TaskId,
    int AnswerRevision = 0, string? AnsweredById = null, string? AnsweredByName = null, DateTimeOffset? AnsweredAt = null);

/// <summary>One saved answer of a checklist item, for the item's history.</summary>
public sealed record ChecklistAnswerRevisionView(int Number, string Answer, string Source, string AuthorName, DateTimeOffset At);

/// <summary>A project's paper-analysis checklists: answering items with their sources, owners, and turning items into board tasks.</summary>
public sealed class ChecklistService(IDbContextFactory<PortalDbContext> dbFactory, LiveUpdates live, InboxNotifier inbox, TimeProvider clock)
{
    public const int MaxTextLength = 4_000;

    public async Task<IReadOnlyList<ChecklistItemView>> ListAsync(long projectId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var items = await (from i in db.ChecklistItems
                           where i.ProjectId == projectId
                           orderby i.Section, i.Position
                           select new { Item = i, OwnerName = db.Users.Where(u => u.Id == i.OwnerId).Select(u => u.DisplayName).FirstOrDefault() })
            .AsNoTracking().ToListAsync(ct);
        var ids = items.Select(i => i.Item.Id).ToList();
        // The current answer's revision of each item: who wrote it and when.
        var current = (await (from r in db.ChecklistAnswerRevisions
                              join i in db.ChecklistItems on r.ItemId equals i.Id
                              where ids.Contains(r.ItemId) && r.Number == i.AnswerRevision
                              select new { r.ItemId, r.AuthorId, r.At, Name = db.Users.Where(u => u.Id == r.AuthorId).Select(u => u.DisplayName).FirstOrDefault() })
                .ToListAsync(ct))
            .ToDictionary(r => r.ItemId);
        return items.Select(x =>
        {
            var i = x.Item;
            var last = current.GetValueOrDefault(i.Id);
            return new ChecklistItemView(i.Id, i.Section, i.Question, i.Answer, i.Source, i.Status, i.OwnerId, x.OwnerName, i.TaskId,
                i.AnswerRevision, last?.AuthorId, last?.Name, last?.At);
        }).ToList();
    }

    /// <summary>Every answer an item had, newest first.</summary>
    public async Task<IReadOnlyList<ChecklistAnswerRevisionView>> GetHistoryAsync(long itemId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (!await db.ChecklistItems.AnyAsync(i => i.Id == itemId, ct)) throw PortalError.NotFound($"There is no checklist item {itemId}.");
        return await (from r in db.ChecklistAnswerRevisions
                      where r.ItemId == itemId
                      orderby r.Number descending
                      select new ChecklistAnswerRevisionView(r.Number, r.Answer, r.Source,
                          db.Users.Where(u => u.Id == r.AuthorId).Select(u => u.DisplayName).FirstOrDefault() ?? "someone before the history was kept", r.At))
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

    /// <summary>
    /// Records an answer and its source as a new revision; an answer without a source is refused, an empty answer
    /// reopens the item. <paramref name="seenRevision"/> is the revision the writer had in front of them: when
    /// someone else saved a newer answer since, the save is refused (nothing is lost) unless
    /// <paramref name="overwrite"/> says the writer saw that answer and replaces it anyway.
    /// </summary>
    public async Task AnswerAsync(Actor actor, long itemId, string answer, string source, int seenRevision, bool overwrite = false, CancellationToken ct = default)
    {
        actor = await dbFactory.RefreshAsync(actor, ct);
        answer = (answer ?? "").Trim();
        source = (source ?? "").Trim();
        if (answer.Length > MaxTextLength || source.Length > MaxTextLength) throw PortalError.Validation($"Answers and sources are at most {MaxTextLength} characters.");
        if (answer.Length > 0 && source.Length == 0)
            throw PortalError.Validation("Say where the answer comes from: a paper section, table or equation, or a reference-code file and line.");

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var item = await FindAsync(db, itemId, ct);
        if (item.AnswerRevision != seenRevision && !overwrite)
        {
            var newer = await db.ChecklistAnswerRevisions.AsNoTracking().FirstOrDefaultAsync(r => r.ItemId == itemId && r.Number == item.AnswerRevision, ct);
            if (newer?.AuthorId != actor.UserId)
            {
                var who = newer?.AuthorId is null ? "Someone" : await db.Users.Where(u => u.Id == newer.AuthorId).Select(u => u.DisplayName).FirstOrDefaultAsync(ct) ?? "Someone";
                throw PortalError.Conflict(item.Answer.Length == 0
                    ? $"{who} cleared this answer after you opened it. Save again to write yours anyway."
                    : $"{who} changed this answer after you opened it, to \"{Shorten(item.Answer)}\". Save again to overwrite it with yours, or cancel to keep theirs.");
            }
        }
        if (item.Answer == answer && item.Source == source) return;

        var now = clock.GetUtcNow();
        item.AnswerRevision++;
        db.ChecklistAnswerRevisions.Add(new ChecklistAnswerRevision
        {
            ItemId = itemId, Number = item.AnswerRevision, Answer = answer, Source = source, AuthorId = actor.UserId, At = now,
        });
        (item.Answer, item.Source) = (answer, source);
        item.Status = answer.Length == 0 ? ChecklistItemStatus.Open : ChecklistItemStatus.Answered;
        item.OwnerId ??= actor.UserId;
        item.UpdatedAt = now;
        try { await db.SaveChangesAsync(ct); }
        // Two saves of the same revision at once: the unique (item, number) index lets only one in.
        catch (DbUpdateException) { throw PortalError.Conflict("Someone saved this answer at the same moment; reload and look at theirs before saving again."); }
        live.Publish(Topics.Project(item.ProjectId));
    }

    private static string Shorten(string text) => text.Length <= 120 ? text : text[..117] + "...";

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
