namespace Portal.Web.Features.Design;

/// <summary>A discussion attached to one version of a design document, optionally to one line of its Markdown.</summary>
public sealed class ReviewThread
{
    public long Id { get; set; }
    public long DocumentId { get; set; }
    public int VersionNumber { get; set; }
    /// <summary>1-based line of the version's Markdown; null for a thread about the whole version.</summary>
    public int? Line { get; set; }
    public string AuthorId { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>When the discussion was settled; null while it is open. Resolving keeps every comment readable.</summary>
    public DateTimeOffset? ResolvedAt { get; set; }
    public string? ResolvedById { get; set; }
    /// <summary>Deleted threads are kept (their comments stay readable to nobody) but take no new comments.</summary>
    public bool IsDeleted { get; set; }
    public List<ReviewComment> Comments { get; set; } = [];
}

public sealed class ReviewComment
{
    public long Id { get; set; }
    public long ThreadId { get; set; }
    public string AuthorId { get; set; } = "";
    public string Text { get; set; } = "";
    public DateTimeOffset At { get; set; }
}
