using Portal.Web.Data;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Inbox;

/// <summary>
/// Adds notifications inside the caller's unit of work (so they are saved with the change they announce)
/// and tells open inboxes after the save.
/// </summary>
public sealed class InboxNotifier(LiveUpdates live, TimeProvider clock)
{
    /// <summary>Adds the notification to <paramref name="db"/>; the caller saves. Nobody is notified of their own action.</summary>
    public void Add(PortalDbContext db, string userId, string actingUserId, NotificationKind kind, string text, string link)
    {
        if (userId == actingUserId) return;
        db.Notifications.Add(new Notification { UserId = userId, Kind = kind, Text = text, Link = link, At = clock.GetUtcNow() });
    }

    /// <summary>Call after SaveChanges so that open inboxes re-read their counts.</summary>
    public void Announce(IEnumerable<string> userIds) => live.Publish(userIds.Distinct().Select(Topics.Inbox).ToArray());
}
