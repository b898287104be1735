using Portal.Web.Features.Tasks;

namespace Portal.Web.Features.Design;

public sealed record DesignDocumentSummary(
    long Id, string Title, ModelComponent? Component, string AuthorName, int LatestVersion,
    DesignDocumentState State, DateTimeOffset UpdatedAt);

public sealed record DesignDocumentView(
    long Id, long ProjectId, string Title, ModelComponent? Component, string AuthorId, string AuthorName,
    int LatestVersion, DesignDocumentState State,
    IReadOnlyList<VersionInfo> Versions, IReadOnlyList<ReviewerStanding> Reviewers, IReadOnlyList<ThreadView> Threads)
{
    public bool IsAuthor(string userId) => AuthorId == userId;
    public bool IsReviewer(string userId) => Reviewers.Any(r => r.UserId == userId);
}

public sealed record VersionInfo(int Number, string AuthorName, DateTimeOffset CreatedAt);

/// <summary>A requested reviewer and their verdict on the latest version (null: none yet).</summary>
public sealed record ReviewerStanding(string UserId, string Name, Verdict? VerdictOnLatest);

/// <summary>
/// A thread as readers see it. Line is the line of the version it was written on; LatestLine is where that same line
/// stands in the latest version (lines above it may have come or gone), null for a thread about the whole version or
/// an outdated one. A line thread is outdated when its line was changed or removed by a later version.
/// </summary>
public sealed record ThreadView(long Id, int VersionNumber, int? Line, string? LineText, string AuthorId, string AuthorName,
    DateTimeOffset CreatedAt, IReadOnlyList<CommentView> Comments,
    int? LatestLine = null, bool IsOutdated = false, DateTimeOffset? ResolvedAt = null, string? ResolvedByName = null)
{
    public bool IsResolved => ResolvedAt is not null;
}

public sealed record CommentView(long Id, string AuthorName, string Text, DateTimeOffset At);

public sealed record VersionContent(int Number, string Markdown, string Html, DateTimeOffset CreatedAt);

public enum DiffLineKind { Unchanged, Inserted, Deleted }

/// <summary>One line of a diff; OldLine/NewLine are 1-based line numbers on each side (null where the line is absent).</summary>
public sealed record DiffLine(DiffLineKind Kind, int? OldLine, int? NewLine, string Text);

public sealed record ReviewerCandidate(string UserId, string Name);
