using Microsoft.EntityFrameworkCore;
using Portal.Web.Data;
using Portal.Web.Features.Activity;
using Portal.Web.Features.Account;
using Portal.Web.Features.Inbox;
using Portal.Web.Features.Projects;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Design;

/// <summary>
/// Reviewing design documents: the author requests reviewers, reviewers give verdicts on the latest version,
/// anyone on the team discusses a version in threads. Whether a document is approved is decided only by
/// <see cref="DesignApprovalRules"/>.
/// </summary>
public sealed class DesignReviewService(
    IDbContextFactory<PortalDbContext> dbFactory, LiveUpdates live, InboxNotifier inbox, TimeProvider clock)
{
    public async Task RequestReviewAsync(Actor actor, long documentId, string reviewerId, CancellationToken ct = default)
    {
        actor = await dbFactory.RefreshAsync(actor, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var doc = await DesignDocumentService.LoadForChangeAsync(db, documentId, ct);
        if (doc.AuthorId != actor.UserId) throw PortalError.Forbidden("Only the document's author can request reviewers.");
        if (reviewerId == doc.AuthorId) throw PortalError.Validation("You cannot review your own document; request a mentor or a lead.");
        var reviewer = await db.Users.FirstOrDefaultAsync(u => u.Id == reviewerId && u.IsActive, ct)
                       ?? throw PortalError.NotFound("There is no such active user.");
        var roles = await (from ur in db.UserRoles join r in db.Roles on ur.RoleId equals r.Id where ur.UserId == reviewerId select r.Name).ToListAsync(ct);
        if (!roles.Contains(Roles.Mentor) && !roles.Contains(Roles.Lead))
            throw PortalError.Validation($"{reviewer.DisplayName} is not a mentor or a lead; only mentors and leads review design documents.");
        if (doc.ReviewRequests.Any(r => r.ReviewerId == reviewerId))
            throw PortalError.Conflict($"{reviewer.DisplayName} is already a reviewer of this document.");

        doc.ReviewRequests.Add(new ReviewRequest { ReviewerId = reviewerId, RequestedAt = clock.GetUtcNow() });
        inbox.Add(db, reviewerId, actor.UserId, NotificationKind.ReviewRequested,
            $"{actor.DisplayName} asks you to review \"{doc.Title}\"", DesignDocumentService.DocumentLink(doc));
        await db.SaveChangesAsync(ct);
        inbox.Announce([reviewerId]);
        live.Publish(Topics.Document(documentId), Topics.Project(doc.ProjectId));
    }

    /// <summary>
    /// A requested reviewer's verdict on the latest version, with an optional comment (which opens a thread).
    /// A later Approve or RequestChanges on the same version replaces the earlier one; a plain Comment does not
    /// take back a decision already given.
    /// </summary>
    public async Task GiveVerdictAsync(Actor actor, long documentId, int versionNumber, Verdict verdict, string? comment, CancellationToken ct = default)
    {
        actor = await dbFactory.RefreshAsync(actor, ct);
        comment = comment?.Trim();
        if (comment?.Length > DesignLimits.MaxCommentLength) throw PortalError.Validation($"A comment is at most {DesignLimits.MaxCommentLength} characters.");
        if (verdict == Verdict.Comment && string.IsNullOrEmpty(comment)) throw PortalError.Validation("Write the comment first.");
        if (verdict == Verdict.RequestChanges && string.IsNullOrEmpty(comment)) throw PortalError.Validation("Say which changes you request.");

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var doc = await DesignDocumentService.LoadForChangeAsync(db, documentId, ct);
        if (doc.AuthorId == actor.UserId)
            throw PortalError.Forbidden(verdict == Verdict.Approve ? "You cannot approve your own document." : "The author does not give verdicts on their own document; reply in a thread.");
        if (doc.ReviewRequests.All(r => r.ReviewerId != actor.UserId))
            throw PortalError.Forbidden("Only a requested reviewer can give a verdict on this document.");
        var latest = await db.DesignDocumentVersions.Where(v => v.DocumentId == documentId).MaxAsync(v => v.Number, ct);
        if (versionNumber != latest)
            throw PortalError.Conflict($"Version {versionNumber} is no longer the latest; version {latest} is. Review version {latest}.");

        var now = clock.GetUtcNow();
        var existing = await db.ReviewVerdicts.FirstOrDefaultAsync(v => v.DocumentId == documentId && v.VersionNumber == versionNumber && v.ReviewerId == actor.UserId, ct);
        if (existing is null)
            db.ReviewVerdicts.Add(new ReviewVerdict { DocumentId = documentId, VersionNumber = versionNumber, ReviewerId = actor.UserId, Verdict = verdict, At = now });
        else if (verdict != Verdict.Comment || existing.Verdict == Verdict.Comment)
            (existing.Verdict, existing.At) = (verdict, now);

        if (!string.IsNullOrEmpty(comment))
            db.ReviewThreads.Add(new ReviewThread
            {
                DocumentId = documentId, VersionNumber = versionNumber, AuthorId = actor.UserId, CreatedAt = now,
                Comments = [new ReviewComment { AuthorId = actor.UserId, Text = comment, At = now }],
            });
        var what = verdict switch { Verdict.Approve => "approved", Verdict.RequestChanges => "requested changes on", _ => "commented on" };
        if (verdict != Verdict.Comment)
            db.Activity.Add(new ActivityEntry { ProjectId = doc.ProjectId, UserId = actor.UserId, Text = $"{what} version {versionNumber} of \"{doc.Title}\"", Link = ActivityLinks.Document(doc.ProjectId, doc.Id), At = now });
        inbox.Add(db, doc.AuthorId, actor.UserId, NotificationKind.CommentOnYourDocument,
            $"{actor.DisplayName} {what} version {versionNumber} of \"{doc.Title}\"", DesignDocumentService.DocumentLink(doc));
        await db.SaveChangesAsync(ct);
        inbox.Announce([doc.AuthorId]);
        live.Publish(Topics.Document(documentId), Topics.Project(doc.ProjectId));
    }

    /// <summary>Anyone on the team may open a thread on any version, about the whole version or one line of it.</summary>
    public async Task<long> StartThreadAsync(Actor actor, long documentId, int versionNumber, int? line, string text, CancellationToken ct = default)
    {
        actor = await dbFactory.RefreshAsync(actor, ct);
        text = CheckComment(text);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var doc = await DesignDocumentService.LoadForChangeAsync(db, documentId, ct);
        var version = await db.DesignDocumentVersions.AsNoTracking().FirstOrDefaultAsync(v => v.DocumentId == documentId && v.Number == versionNumber, ct)
                      ?? throw PortalError.NotFound($"This document has no version {versionNumber}.");
        var lineCount = DesignDocumentService.SplitLines(version.Markdown).Length;
        if (line is int l && (l < 1 || l > lineCount))
            throw PortalError.Validation($"Version {versionNumber} has lines 1 to {lineCount}; there is no line {l}.");

        var now = clock.GetUtcNow();
        var thread = new ReviewThread
        {
            DocumentId = documentId, VersionNumber = versionNumber, Line = line, AuthorId = actor.UserId, CreatedAt = now,
            Comments = [new ReviewComment { AuthorId = actor.UserId, Text = text, At = now }],
        };
        db.ReviewThreads.Add(thread);
        NotifyAuthor(db, doc, actor, $"{actor.DisplayName} commented on {(line is null ? "" : $"line {line} of ")}version {versionNumber} of \"{doc.Title}\"");
        await db.SaveChangesAsync(ct);
        Announce(doc);
        return thread.Id;
    }

    public async Task ReplyAsync(Actor actor, long threadId, string text, CancellationToken ct = default)
    {
        actor = await dbFactory.RefreshAsync(actor, ct);
        text = CheckComment(text);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var thread = await db.ReviewThreads.FirstOrDefaultAsync(t => t.Id == threadId, ct)
                     ?? throw PortalError.NotFound($"There is no thread {threadId}.");
        if (thread.IsDeleted) throw PortalError.Conflict("This thread was deleted; it takes no new comments. Start a new thread.");
        var doc = await DesignDocumentService.LoadForChangeAsync(db, thread.DocumentId, ct);

        db.ReviewComments.Add(new ReviewComment { ThreadId = threadId, AuthorId = actor.UserId, Text = text, At = clock.GetUtcNow() });
        NotifyAuthor(db, doc, actor, $"{actor.DisplayName} replied in a thread on \"{doc.Title}\"");
        await db.SaveChangesAsync(ct);
        Announce(doc);
    }

    /// <summary>The thread's author or the document's author may delete a thread.</summary>
    public async Task DeleteThreadAsync(Actor actor, long threadId, CancellationToken ct = default)
    {
        actor = await dbFactory.RefreshAsync(actor, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var thread = await db.ReviewThreads.FirstOrDefaultAsync(t => t.Id == threadId && !t.IsDeleted, ct)
                     ?? throw PortalError.NotFound("That thread does not exist or was already deleted.");
        var doc = await DesignDocumentService.LoadForChangeAsync(db, thread.DocumentId, ct);
        if (thread.AuthorId != actor.UserId && doc.AuthorId != actor.UserId)
            throw PortalError.Forbidden("Only the thread's author or the document's author can delete a thread.");
        thread.IsDeleted = true;
        await db.SaveChangesAsync(ct);
        live.Publish(Topics.Document(doc.Id));
    }

    /// <summary>Marks a thread's discussion settled (<see cref="ReviewThreadRules"/> says who may); it stays readable and can be reopened.</summary>
    public async Task ResolveThreadAsync(Actor actor, long threadId, CancellationToken ct = default) =>
        await SetResolvedAsync(actor, threadId, resolved: true, ct);

    /// <summary>Opens a resolved thread again, for the same people who may resolve it.</summary>
    public async Task ReopenThreadAsync(Actor actor, long threadId, CancellationToken ct = default) =>
        await SetResolvedAsync(actor, threadId, resolved: false, ct);

    private async Task SetResolvedAsync(Actor actor, long threadId, bool resolved, CancellationToken ct)
    {
        actor = await dbFactory.RefreshAsync(actor, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var thread = await db.ReviewThreads.FirstOrDefaultAsync(t => t.Id == threadId && !t.IsDeleted, ct)
                     ?? throw PortalError.NotFound("That thread does not exist or was deleted.");
        var doc = await DesignDocumentService.LoadForChangeAsync(db, thread.DocumentId, ct);
        if (!ReviewThreadRules.CanResolve(actor, thread.AuthorId, doc.AuthorId))
            throw PortalError.Forbidden(resolved
                ? "Only the thread's author, the document's author or a lead can resolve a thread."
                : "Only the thread's author, the document's author or a lead can reopen a thread.");
        if (resolved == thread.ResolvedAt is not null)
            throw PortalError.Conflict(resolved ? "This thread is resolved already." : "This thread is open already.");

        thread.ResolvedAt = resolved ? clock.GetUtcNow() : null;
        thread.ResolvedById = resolved ? actor.UserId : null;
        await db.SaveChangesAsync(ct);
        live.Publish(Topics.Document(doc.Id));
    }

    private static string CheckComment(string? text)
    {
        text = (text ?? "").Trim();
        if (text.Length == 0) throw PortalError.Validation("Write the comment first.");
        if (text.Length > DesignLimits.MaxCommentLength) throw PortalError.Validation($"A comment is at most {DesignLimits.MaxCommentLength} characters.");
        return text;
    }

    private void NotifyAuthor(PortalDbContext db, DesignDocument doc, Actor actor, string text) =>
        inbox.Add(db, doc.AuthorId, actor.UserId, NotificationKind.CommentOnYourDocument, text, DesignDocumentService.DocumentLink(doc));

    private void Announce(DesignDocument doc)
    {
        inbox.Announce([doc.AuthorId]);
        live.Publish(Topics.Document(doc.Id), Topics.Project(doc.ProjectId));
    }
}
