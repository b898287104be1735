using Portal.Web.Features.Tasks;

namespace Portal.Web.Features.Design;

/// <summary>A design document for one component, or for the whole project when Component is null.</summary>
public sealed class DesignDocument
{
    public long Id { get; set; }
    public long ProjectId { get; set; }
    public ModelComponent? Component { get; set; }
    public string Title { get; set; } = "";
    public string AuthorId { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public bool IsDeleted { get; set; }
    public List<DesignDocumentVersion> Versions { get; set; } = [];
    public List<ReviewRequest> ReviewRequests { get; set; } = [];
}

/// <summary>Every version is kept; versions are numbered from 1.</summary>
public sealed class DesignDocumentVersion
{
    public long Id { get; set; }
    public long DocumentId { get; set; }
    public int Number { get; set; }
    public string Markdown { get; set; } = "";
    public string AuthorId { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
}

public sealed class ReviewRequest
{
    public long Id { get; set; }
    public long DocumentId { get; set; }
    public string ReviewerId { get; set; } = "";
    public DateTimeOffset RequestedAt { get; set; }
}

/// <summary>A reviewer's verdict on one version. A document is approved when every requested reviewer approved its latest version.</summary>
public sealed class ReviewVerdict
{
    public long Id { get; set; }
    public long DocumentId { get; set; }
    public int VersionNumber { get; set; }
    public string ReviewerId { get; set; } = "";
    public Verdict Verdict { get; set; }
    public DateTimeOffset At { get; set; }
}

public enum Verdict { Comment, Approve, RequestChanges }
