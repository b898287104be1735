using Microsoft.EntityFrameworkCore;
using Portal.Web.Data;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Inbox;

public sealed record InboxItem(long Id, NotificationKind Kind, string Text, string Link, DateTimeOffset At, bool IsRead);

public sealed record InboxCounts(int Unread, IReadOnlyDictionary<NotificationKind, int> UnreadByKind)
{
    public int Of(NotificationKind kind) => UnreadByKind.GetValueOrDefault(kind);
}

/// <summary>A user's own notifications: nobody reads or marks another user's inbox.</summary>
public sealed class InboxService(IDbContextFactory<PortalDbContext> dbFactory, LiveUpdates live, TimeProvider clock)
{
    public async Task<IReadOnlyList<InboxItem>> ListAsync(Actor actor, bool unreadOnly = false, int take = 200, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Notifications.AsNoTracking()
            .Where(n => n.UserId == actor.UserId && (!unreadOnly || n.ReadAt == null))
            .OrderByDescending(n => n.At).ThenByDescending(n => n.Id)
            .Take(take)
            .Select(n => new InboxItem(n.Id, n.Kind, n.Text, n.Link, n.At, n.ReadAt != null))
            .ToListAsync(ct);
    }

    public async Task<InboxCounts> CountsAsync(Actor actor, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var byKind = await db.Notifications
            .Where(n => n.UserId == actor.UserId && n.ReadAt == null)
            .GroupBy(n => n.Kind)
            .Select(g => new { g.Key, Count = g.Count() })
            .ToDictionaryAsync(g => g.Key, g => g.Count, ct);
        return new InboxCounts(byKind.Values.Sum(), byKind);
    }

    public async Task MarkReadAsync(Actor actor, long notificationId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var n = await db.Notifications.FirstOrDefaultAsync(x => x.Id == notificationId && x.UserId == actor.UserId, ct)
                ?? throw PortalError.NotFound("That notification is not in your inbox.");
        if (n.ReadAt is not null) return;
        n.ReadAt = clock.GetUtcNow();
        await db.SaveChangesAsync(ct);
        live.Publish(Topics.Inbox(actor.UserId));
    }

    public async Task MarkAllReadAsync(Actor actor, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var now = clock.GetUtcNow();
        var changed = await db.Notifications.Where(n => n.UserId == actor.UserId && n.ReadAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(n => n.ReadAt, now), ct);
        if (changed > 0) live.Publish(Topics.Inbox(actor.UserId));
    }

    public static string Label(NotificationKind kind) => kind switch
    {
        NotificationKind.ReviewRequested => "Review requested",
        NotificationKind.CommentOnYourDocument => "Comment on your document",
        NotificationKind.TaskAssigned => "Task assigned to you",
        NotificationKind.RunAnnotated => "Run annotated",
        NotificationKind.Defect => "Defect",
        _ => "Release decision",
    };
}
