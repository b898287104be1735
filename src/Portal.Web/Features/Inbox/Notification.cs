namespace Portal.Web.Features.Inbox;

/// <summary>Something a user should see in their inbox: a review request, a comment, an assignment, a curve review.</summary>
public sealed class Notification
{
    public long Id { get; set; }
    public string UserId { get; set; } = "";
    public NotificationKind Kind { get; set; }
    public string Text { get; set; } = "";
    /// <summary>Portal-relative link to what the notification is about.</summary>
    public string Link { get; set; } = "";
    public DateTimeOffset At { get; set; }
    public DateTimeOffset? ReadAt { get; set; }
}

public enum NotificationKind { ReviewRequested, CommentOnYourDocument, TaskAssigned, RunAnnotated, ReleaseDecision, Defect }
