using Portal.Web.Features.Account;
using Portal.Web.Features.Design;
using Portal.Web.Features.Tasks;
using Portal.Web.Infrastructure;

namespace Portal.Web.Tests.Design;

/// <summary>Line threads as in a code review: resolved and reopened by the people the rules allow, outdated when a later version changes their line.</summary>
public sealed class ReviewThreadTests : IDisposable
{
    private const string FirstVersion = "# Neck\n\nSPP with kernels 5, 9, 13.\nPANet with addition.\nOutputs at strides 8, 16, 32.\n";
    private readonly FeatureDatabase _db = new();
    private readonly DesignDocumentService _documents;
    private readonly DesignReviewService _reviews;

    public ReviewThreadTests()
    {
        _documents = _db.Get<DesignDocumentService>();
        _reviews = _db.Get<DesignReviewService>();
    }

    public void Dispose() => _db.Dispose();

    private async Task<(Actor Author, Actor Mentor, long DocumentId)> DocumentAsync()
    {
        var projectId = await _db.AddProjectAsync();
        var author = await _db.AddUserAsync("member1", Roles.Member);
        var mentor = await _db.AddUserAsync("mentor1", Roles.Mentor);
        var id = await _documents.CreateAsync(author, projectId, "Neck", ModelComponent.Neck, FirstVersion);
        return (author, mentor, id);
    }

    private async Task<ThreadView> ThreadAsync(long documentId, long threadId) => (await _documents.GetAsync(documentId)).Threads.Single(t => t.Id == threadId);

    [Fact]
    public async Task A_thread_is_resolved_and_reopened_by_its_author_the_document_author_or_a_lead_and_refused_to_anyone_else()
    {
        var (author, mentor, id) = await DocumentAsync();
        var lead = await _db.AddUserAsync("lead.modeling", Roles.Lead);
        var other = await _db.AddUserAsync("member2", Roles.Member);
        var threadId = await _reviews.StartThreadAsync(mentor, id, 1, 4, "Concatenation, not addition?");

        var refused = await Assert.ThrowsAsync<PortalError>(() => _reviews.ResolveThreadAsync(other, threadId));
        Assert.Equal(PortalErrorKind.Forbidden, refused.Kind);
        Assert.False((await ThreadAsync(id, threadId)).IsResolved);

        await _reviews.ResolveThreadAsync(author, threadId);
        var resolved = await ThreadAsync(id, threadId);
        Assert.True(resolved.IsResolved);
        Assert.Equal("member1 (test)", resolved.ResolvedByName);
        Assert.Single(resolved.Comments);
        var twice = await Assert.ThrowsAsync<PortalError>(() => _reviews.ResolveThreadAsync(mentor, threadId));
        Assert.Equal(PortalErrorKind.Conflict, twice.Kind);

        await Assert.ThrowsAsync<PortalError>(() => _reviews.ReopenThreadAsync(other, threadId));
        await _reviews.ReopenThreadAsync(mentor, threadId);
        Assert.False((await ThreadAsync(id, threadId)).IsResolved);
        await _reviews.ResolveThreadAsync(lead, threadId);
        Assert.Equal("lead.modeling (test)", (await ThreadAsync(id, threadId)).ResolvedByName);
    }

    [Fact]
    public async Task After_a_new_version_a_thread_whose_line_changed_is_outdated_and_one_whose_line_only_moved_follows_it()
    {
        var (author, mentor, id) = await DocumentAsync();
        var onChangedLine = await _reviews.StartThreadAsync(mentor, id, 1, 4, "Concatenation, not addition?");
        var onMovedLine = await _reviews.StartThreadAsync(mentor, id, 1, 5, "Which head takes stride 8?");
        var onWholeVersion = await _reviews.StartThreadAsync(mentor, id, 1, null, "Add a diagram.");

        await _documents.PostVersionAsync(author, id, "# Neck\n\nInput: C3, C4, C5.\nSPP with kernels 5, 9, 13.\nPANet with concatenation.\nOutputs at strides 8, 16, 32.\n");

        var changed = await ThreadAsync(id, onChangedLine);
        Assert.True(changed.IsOutdated);
        Assert.Null(changed.LatestLine);
        Assert.Equal("PANet with addition.", changed.LineText);
        Assert.Equal("Concatenation, not addition?", changed.Comments.Single().Text);
        var moved = await ThreadAsync(id, onMovedLine);
        Assert.False(moved.IsOutdated);
        Assert.Equal((5, 6), (moved.Line!.Value, moved.LatestLine!.Value));
        var whole = await ThreadAsync(id, onWholeVersion);
        Assert.False(whole.IsOutdated);
        Assert.Null(whole.LatestLine);
    }

    [Fact]
    public async Task A_thread_whose_line_a_later_version_removed_is_outdated_and_stays_readable_while_one_on_the_latest_version_is_not()
    {
        var (author, mentor, id) = await DocumentAsync();
        var onRemovedLine = await _reviews.StartThreadAsync(mentor, id, 1, 5, "Which head takes stride 8?");
        await _documents.PostVersionAsync(author, id, "# Neck\n\nSPP with kernels 5, 9, 13.\nPANet with addition.\n");
        var onLatest = await _reviews.StartThreadAsync(mentor, id, 2, 3, "Kernel 13 on a 13x13 map?");

        var removed = await ThreadAsync(id, onRemovedLine);
        Assert.True(removed.IsOutdated);
        Assert.Equal("Outputs at strides 8, 16, 32.", removed.LineText);
        var latest = await ThreadAsync(id, onLatest);
        Assert.False(latest.IsOutdated);
        Assert.Equal(3, latest.LatestLine);

        // An outdated thread still takes replies, and can be resolved by its author.
        await _reviews.ReplyAsync(author, onRemovedLine, "Removed: the head owns the strides now.");
        await _reviews.ResolveThreadAsync(mentor, onRemovedLine);
        Assert.Equal(2, (await ThreadAsync(id, onRemovedLine)).Comments.Count);
    }
}
