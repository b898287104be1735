using DiffPlex;
using Microsoft.EntityFrameworkCore;
using Portal.Web.Data;
using Portal.Web.Features.Activity;
using Portal.Web.Features.Account;
using Portal.Web.Features.Inbox;
using Portal.Web.Features.Projects;
using Portal.Web.Features.Tasks;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Design;

/// <summary>Design documents: writing them, their versions, reading and diffing. Reviews are in <see cref="DesignReviewService"/>.</summary>
public sealed class DesignDocumentService(
    IDbContextFactory<PortalDbContext> dbFactory, MarkdownRenderer markdown, LiveUpdates live, InboxNotifier inbox, TimeProvider clock)
{
    public async Task<IReadOnlyList<DesignDocumentSummary>> ListAsync(long projectId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var docs = await db.DesignDocuments.AsNoTracking()
            .Where(d => d.ProjectId == projectId && !d.IsDeleted)
            .Include(d => d.ReviewRequests)
            .ToListAsync(ct);
        var ids = docs.Select(d => d.Id).ToList();
        // Version numbers and dates only: the Markdown of every version is not needed for a list.
        var versions = (await db.DesignDocumentVersions.Where(v => ids.Contains(v.DocumentId))
                .Select(v => new { v.DocumentId, v.Number, v.CreatedAt }).ToListAsync(ct))
            .ToLookup(v => v.DocumentId);
        var verdicts = await db.ReviewVerdicts.AsNoTracking().Where(v => ids.Contains(v.DocumentId)).ToListAsync(ct);
        var names = await NamesAsync(db, docs.Select(d => d.AuthorId), ct);
        return docs.Select(d =>
            {
                var latest = versions[d.Id].Select(v => v.Number).DefaultIfEmpty(0).Max();
                var state = DesignApprovalRules.StateOf(latest, d.ReviewRequests.Select(r => r.ReviewerId), verdicts.Where(v => v.DocumentId == d.Id));
                var updated = versions[d.Id].Select(v => v.CreatedAt).DefaultIfEmpty(d.CreatedAt).Max();
                return new DesignDocumentSummary(d.Id, d.Title, d.Component, names.GetValueOrDefault(d.AuthorId, "?"), latest, state, updated);
            })
            .OrderBy(d => d.Component.HasValue).ThenBy(d => d.Component).ThenBy(d => d.Title)
            .ToList();
    }

    public async Task<DesignDocumentView> GetAsync(long documentId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var doc = await db.DesignDocuments.AsNoTracking()
                      .Include(d => d.ReviewRequests)
                      .FirstOrDefaultAsync(d => d.Id == documentId && !d.IsDeleted, ct)
                  ?? throw PortalError.NotFound($"There is no design document {documentId}.");
        var versions = await db.DesignDocumentVersions.Where(v => v.DocumentId == documentId)
            .Select(v => new { v.Number, v.AuthorId, v.CreatedAt }).ToListAsync(ct);
        var verdicts = await db.ReviewVerdicts.AsNoTracking().Where(v => v.DocumentId == documentId).ToListAsync(ct);
        var threads = await db.ReviewThreads.AsNoTracking().Include(t => t.Comments)
            .Where(t => t.DocumentId == documentId && !t.IsDeleted).OrderBy(t => t.VersionNumber).ThenBy(t => t.Line).ThenBy(t => t.Id)
            .ToListAsync(ct);

        var latest = versions.Select(v => v.Number).DefaultIfEmpty(0).Max();
        var names = await NamesAsync(db,
            [doc.AuthorId, .. versions.Select(v => v.AuthorId), .. doc.ReviewRequests.Select(r => r.ReviewerId),
             .. threads.Select(t => t.AuthorId), .. threads.SelectMany(t => t.Comments).Select(c => c.AuthorId),
             .. threads.Where(t => t.ResolvedById is not null).Select(t => t.ResolvedById!)], ct);
        string Name(string id) => names.GetValueOrDefault(id, "?");
        // Only versions that carry line threads (and the latest, to follow their lines into it) are read in full.
        var quoted = threads.Where(t => t.Line is not null).Select(t => t.VersionNumber).Distinct().ToList();
        var markdownByVersion = quoted.Count == 0 ? new Dictionary<int, string>() : await db.DesignDocumentVersions
            .Where(v => v.DocumentId == documentId && (quoted.Contains(v.Number) || v.Number == latest))
            .ToDictionaryAsync(v => v.Number, v => v.Markdown, ct);
        var linesByVersion = markdownByVersion.ToDictionary(v => v.Key, v => SplitLines(v.Value));
        var toLatest = quoted.Where(n => n != latest && markdownByVersion.ContainsKey(n) && markdownByVersion.ContainsKey(latest))
            .ToDictionary(n => n, n => LinesKept(markdownByVersion[n], markdownByVersion[latest]));
        int? LatestLine(ReviewThread t) => t.Line is not int l ? null
            : t.VersionNumber == latest ? l
            : toLatest.TryGetValue(t.VersionNumber, out var kept) && kept.TryGetValue(l, out var moved) ? moved : null;

        var reviewers = doc.ReviewRequests.OrderBy(r => r.RequestedAt).Select(r =>
        {
            var mine = verdicts.Where(v => v.ReviewerId == r.ReviewerId && v.VersionNumber == latest)
                .OrderByDescending(v => v.At).ThenByDescending(v => v.Id).FirstOrDefault();
            return new ReviewerStanding(r.ReviewerId, Name(r.ReviewerId), mine?.Verdict);
        }).ToList();

        return new DesignDocumentView(doc.Id, doc.ProjectId, doc.Title, doc.Component, doc.AuthorId, Name(doc.AuthorId), latest,
            DesignApprovalRules.StateOf(latest, doc.ReviewRequests.Select(r => r.ReviewerId), verdicts),
            versions.OrderByDescending(v => v.Number).Select(v => new VersionInfo(v.Number, Name(v.AuthorId), v.CreatedAt)).ToList(),
            reviewers,
            threads.Select(t => new ThreadView(t.Id, t.VersionNumber, t.Line,
                t.Line is int l && linesByVersion.TryGetValue(t.VersionNumber, out var lines) && l <= lines.Length ? lines[l - 1] : null,
                t.AuthorId, Name(t.AuthorId), t.CreatedAt,
                t.Comments.OrderBy(c => c.At).ThenBy(c => c.Id).Select(c => new CommentView(c.Id, Name(c.AuthorId), c.Text, c.At)).ToList(),
                LatestLine(t), t.Line is not null && LatestLine(t) is null, t.ResolvedAt,
                t.ResolvedById is null ? null : Name(t.ResolvedById))).ToList());
    }

    public async Task<VersionContent> GetVersionAsync(long documentId, int number, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var version = await db.DesignDocumentVersions.AsNoTracking().FirstOrDefaultAsync(v => v.DocumentId == documentId && v.Number == number, ct)
                      ?? throw PortalError.NotFound($"Design document {documentId} has no version {number}.");
        return new VersionContent(version.Number, version.Markdown, markdown.ToSafeHtml(version.Markdown), version.CreatedAt);
    }

    /// <summary>Line diff from version <paramref name="from"/> to version <paramref name="to"/> (any two, either order).</summary>
    public async Task<IReadOnlyList<DiffLine>> DiffAsync(long documentId, int from, int to, CancellationToken ct = default)
    {
        var older = await GetVersionAsync(documentId, from, ct);
        var newer = await GetVersionAsync(documentId, to, ct);
        return Diff(older.Markdown, newer.Markdown);
    }

    /// <summary>Above this many lines found on only one side, the versions are shown as replaced rather than aligned.</summary>
    public const int MaxAlignedChanges = 2_000;

    public static IReadOnlyList<DiffLine> Diff(string oldText, string newText)
    {
        // Line alignment costs about (lines x changes): two unrelated 1 MB versions took 6 s on the circuit
        // (2% of lines changed: 0.15 s). When that many lines differ, an alignment would show little anyway.
        var oldLines = SplitLines(oldText);
        var newLines = SplitLines(newText);
        var oldSet = oldLines.ToHashSet();
        var newSet = newLines.ToHashSet();
        if (oldLines.Count(l => !newSet.Contains(l)) + newLines.Count(l => !oldSet.Contains(l)) > MaxAlignedChanges)
            return [.. oldLines.Select((l, i) => new DiffLine(DiffLineKind.Deleted, i + 1, null, l)),
                    .. newLines.Select((l, i) => new DiffLine(DiffLineKind.Inserted, null, i + 1, l))];

        var result = Differ.Instance.CreateLineDiffs(oldText, newText, false, false);
        var lines = new List<DiffLine>();
        int a = 0, b = 0;
        void Same(int untilA)
        {
            for (; a < untilA; a++, b++) lines.Add(new DiffLine(DiffLineKind.Unchanged, a + 1, b + 1, result.PiecesOld[a]));
        }
        foreach (var block in result.DiffBlocks)
        {
            Same(block.DeleteStartA);
            for (var i = 0; i < block.DeleteCountA; i++, a++) lines.Add(new DiffLine(DiffLineKind.Deleted, a + 1, null, result.PiecesOld[a]));
            for (var i = 0; i < block.InsertCountB; i++, b++) lines.Add(new DiffLine(DiffLineKind.Inserted, null, b + 1, result.PiecesNew[b]));
        }
        Same(result.PiecesOld.Count);
        return lines;
    }

    /// <summary>
    /// Where each line of the older text stands in the newer one, for the lines the diff keeps unchanged; a line that
    /// was changed or removed has no entry.
    /// </summary>
    public static IReadOnlyDictionary<int, int> LinesKept(string olderText, string newerText) =>
        Diff(olderText, newerText).Where(d => d.Kind == DiffLineKind.Unchanged).ToDictionary(d => d.OldLine!.Value, d => d.NewLine!.Value);

    public async Task<long> CreateAsync(Actor actor, long projectId, string title, ModelComponent? component, string markdownText, CancellationToken ct = default)
    {
        actor = await dbFactory.RefreshAsync(actor, ct);
        title = (title ?? "").Trim();
        if (title.Length == 0) throw PortalError.Validation("A design document needs a title.");
        if (title.Length > DesignLimits.MaxTitleLength) throw PortalError.Validation($"The title is longer than {DesignLimits.MaxTitleLength} characters.");
        MarkdownPolicy.Validate(markdownText);

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, ct)) throw PortalError.NotFound($"There is no project {projectId}.");
        if (await db.DesignDocuments.AnyAsync(d => d.ProjectId == projectId && !d.IsDeleted && d.Component == component, ct))
            throw PortalError.Conflict(component is null
                ? "This project already has a project-level design document; add a version to it."
                : $"The {component} already has a design document; add a version to it.");

        var now = clock.GetUtcNow();
        var doc = new DesignDocument
        {
            ProjectId = projectId, Component = component, Title = title, AuthorId = actor.UserId, CreatedAt = now,
            Versions = [new DesignDocumentVersion { Number = 1, Markdown = markdownText, AuthorId = actor.UserId, CreatedAt = now }],
        };
        // The activity entry links to the document, so it needs the document's id: two saves, one transaction.
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        db.DesignDocuments.Add(doc);
        await db.SaveChangesAsync(ct);
        db.Activity.Add(new ActivityEntry
        {
            ProjectId = projectId, UserId = actor.UserId, Text = $"started the design document \"{title}\"", Link = ActivityLinks.Document(projectId, doc.Id), At = now,
        });
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        live.Publish(Topics.Project(projectId));
        return doc.Id;
    }

    /// <summary>Only the author posts versions. A new version starts a new review round: verdicts belong to the version they were given on.</summary>
    public async Task<int> PostVersionAsync(Actor actor, long documentId, string markdownText, CancellationToken ct = default)
    {
        actor = await dbFactory.RefreshAsync(actor, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var doc = await LoadForChangeAsync(db, documentId, ct);
        if (doc.AuthorId != actor.UserId) throw PortalError.Forbidden("Only the document's author can post a new version.");
        MarkdownPolicy.Validate(markdownText);
        var latest = await db.DesignDocumentVersions.Where(v => v.DocumentId == documentId).OrderByDescending(v => v.Number).FirstAsync(ct);
        if (latest.Markdown == markdownText) throw PortalError.Validation($"Nothing changed since version {latest.Number}.");

        var number = latest.Number + 1;
        db.DesignDocumentVersions.Add(new DesignDocumentVersion
        {
            DocumentId = documentId, Number = number, Markdown = markdownText, AuthorId = actor.UserId, CreatedAt = clock.GetUtcNow(),
        });
        db.Activity.Add(new ActivityEntry { ProjectId = doc.ProjectId, UserId = actor.UserId, Text = $"posted version {number} of \"{doc.Title}\"", Link = ActivityLinks.Document(doc.ProjectId, doc.Id), At = clock.GetUtcNow() });
        foreach (var r in doc.ReviewRequests)
            inbox.Add(db, r.ReviewerId, actor.UserId, NotificationKind.ReviewRequested,
                $"{actor.DisplayName} posted version {number} of \"{doc.Title}\" for your review", DocumentLink(doc));
        try { await db.SaveChangesAsync(ct); }
        catch (DbUpdateException) { throw PortalError.Conflict("Another version was posted at the same time; reload and try again."); }
        inbox.Announce(doc.ReviewRequests.Select(r => r.ReviewerId));
        live.Publish(Topics.Document(documentId), Topics.Project(doc.ProjectId));
        return number;
    }

    /// <summary>Mentors and leads other than the author, for the author's reviewer picker.</summary>
    public async Task<IReadOnlyList<ReviewerCandidate>> ReviewerCandidatesAsync(long documentId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var authorId = await db.DesignDocuments.Where(d => d.Id == documentId).Select(d => d.AuthorId).FirstOrDefaultAsync(ct);
        return await (from u in db.Users
                      where u.IsActive && u.Id != authorId
                            && db.UserRoles.Any(ur => ur.UserId == u.Id && db.Roles.Any(r => r.Id == ur.RoleId && (r.Name == Roles.Mentor || r.Name == Roles.Lead)))
                      orderby u.DisplayName
                      select new ReviewerCandidate(u.Id, u.DisplayName)).ToListAsync(ct);
    }

    internal static string DocumentLink(DesignDocument doc) => $"/projects/{doc.ProjectId}/design/{doc.Id}";

    internal static async Task<DesignDocument> LoadForChangeAsync(PortalDbContext db, long documentId, CancellationToken ct) =>
        await db.DesignDocuments.Include(d => d.ReviewRequests).FirstOrDefaultAsync(d => d.Id == documentId && !d.IsDeleted, ct)
        ?? throw PortalError.NotFound($"There is no design document {documentId}.");

    internal static async Task<Dictionary<string, string>> NamesAsync(PortalDbContext db, IEnumerable<string> userIds, CancellationToken ct)
    {
        var ids = userIds.Distinct().ToList();
        return await db.Users.Where(u => ids.Contains(u.Id)).ToDictionaryAsync(u => u.Id, u => u.DisplayName, ct);
    }

    internal static string[] SplitLines(string text) => text.Replace("\r\n", "\n").Split('\n');
}
