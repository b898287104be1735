using Microsoft.EntityFrameworkCore;
using Portal.Web.Features.Account;
using Portal.Web.Features.Design;
using Portal.Web.Features.Inbox;
using Portal.Web.Features.Tasks;
using Portal.Web.Infrastructure;

namespace Portal.Web.Tests.Design;

public sealed class DesignReviewTests : IDisposable
{
    private readonly FeatureDatabase _db = new();
    private readonly DesignDocumentService _documents;
    private readonly DesignReviewService _reviews;

    public DesignReviewTests()
    {
        _documents = _db.Get<DesignDocumentService>();
        _reviews = _db.Get<DesignReviewService>();
    }

    public void Dispose() => _db.Dispose();

    private async Task<(long ProjectId, Actor Member, Actor Mentor, Actor Lead, long DocumentId)> DocumentInReviewAsync()
    {
        var projectId = await _db.AddProjectAsync();
        var member = await _db.AddUserAsync("member1", Roles.Member);
        var mentor = await _db.AddUserAsync("mentor1", Roles.Mentor);
        var lead = await _db.AddUserAsync("lead.modeling", Roles.Lead);
        var id = await _documents.CreateAsync(member, projectId, "Neck: SPP and PANet", ModelComponent.Neck, "# Neck\n\nSPP then PANet.\n");
        await _reviews.RequestReviewAsync(member, id, mentor.UserId);
        return (projectId, member, mentor, lead, id);
    }

    private Task<(int Docs, int Versions, int Requests, int Verdicts, int Threads, int Comments, int Notifications, int Activity)> StoredAsync() =>
        _db.QueryAsync(async db => (await db.DesignDocuments.CountAsync(), await db.DesignDocumentVersions.CountAsync(), await db.ReviewRequests.CountAsync(),
            await db.ReviewVerdicts.CountAsync(), await db.ReviewThreads.CountAsync(x => !x.IsDeleted), await db.ReviewComments.CountAsync(), await db.Notifications.CountAsync(), await db.Activity.CountAsync()));

    [Fact]
    public async Task A_new_document_is_a_draft_at_version_one_until_a_reviewer_is_requested()
    {
        var projectId = await _db.AddProjectAsync();
        var member = await _db.AddUserAsync("member1", Roles.Member);
        var id = await _documents.CreateAsync(member, projectId, "Backbone", ModelComponent.Backbone, "# CSPDarknet53");

        var doc = await _documents.GetAsync(id);
        Assert.Equal(1, doc.LatestVersion);
        Assert.Equal(DesignDocumentState.Draft, doc.State);
        Assert.Equal(DesignDocumentState.Draft, (await _documents.ListAsync(projectId)).Single().State);
    }

    [Fact]
    public async Task The_review_round_trip_ends_approved_only_when_the_reviewer_approves_the_latest_version()
    {
        var (_, member, mentor, _, id) = await DocumentInReviewAsync();
        Assert.Equal(DesignDocumentState.InReview, (await _documents.GetAsync(id)).State);

        await _reviews.GiveVerdictAsync(mentor, id, 1, Verdict.Comment, "Which kernel sizes does SPP use?");
        Assert.Equal(DesignDocumentState.InReview, (await _documents.GetAsync(id)).State);

        _db.Clock.Advance(TimeSpan.FromMinutes(1));
        await _reviews.GiveVerdictAsync(mentor, id, 1, Verdict.RequestChanges, "Name the kernel sizes.");
        Assert.Equal(DesignDocumentState.ChangesRequested, (await _documents.GetAsync(id)).State);

        _db.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(2, await _documents.PostVersionAsync(member, id, "# Neck\n\nSPP (5, 9, 13) then PANet.\n"));
        Assert.Equal(DesignDocumentState.InReview, (await _documents.GetAsync(id)).State);

        _db.Clock.Advance(TimeSpan.FromMinutes(1));
        await _reviews.GiveVerdictAsync(mentor, id, 2, Verdict.Approve, null);
        var doc = await _documents.GetAsync(id);
        Assert.Equal(DesignDocumentState.Approved, doc.State);
        Assert.Equal(Verdict.Approve, doc.Reviewers.Single().VerdictOnLatest);
        Assert.Equal(2, doc.Threads.Count);
        var activity = await _db.QueryAsync(db => db.Activity.OrderBy(a => a.Id).Select(a => a.Text).ToListAsync());
        Assert.Equal(["started the design document \"Neck: SPP and PANet\"", "requested changes on version 1 of \"Neck: SPP and PANet\"",
            "posted version 2 of \"Neck: SPP and PANet\"", "approved version 2 of \"Neck: SPP and PANet\""], activity);
    }

    [Fact]
    public async Task A_new_version_clears_the_approvals_of_the_previous_one()
    {
        var (_, member, mentor, lead, id) = await DocumentInReviewAsync();
        await _reviews.RequestReviewAsync(member, id, lead.UserId);
        await _reviews.GiveVerdictAsync(mentor, id, 1, Verdict.Approve, null);
        Assert.Equal(DesignDocumentState.InReview, (await _documents.GetAsync(id)).State);
        await _reviews.GiveVerdictAsync(lead, id, 1, Verdict.Approve, null);
        Assert.Equal(DesignDocumentState.Approved, (await _documents.GetAsync(id)).State);

        await _documents.PostVersionAsync(member, id, "# Neck\n\nNow with a table.\n");

        var doc = await _documents.GetAsync(id);
        Assert.Equal(DesignDocumentState.InReview, doc.State);
        Assert.All(doc.Reviewers, r => Assert.Null(r.VerdictOnLatest));
    }

    [Fact]
    public async Task A_plain_comment_does_not_take_back_an_approval_on_the_same_version()
    {
        var (_, _, mentor, _, id) = await DocumentInReviewAsync();
        await _reviews.GiveVerdictAsync(mentor, id, 1, Verdict.Approve, null);
        _db.Clock.Advance(TimeSpan.FromMinutes(1));
        await _reviews.GiveVerdictAsync(mentor, id, 1, Verdict.Comment, "Nice diagram.");
        Assert.Equal(DesignDocumentState.Approved, (await _documents.GetAsync(id)).State);
    }

    [Fact]
    public async Task Review_requests_and_comments_reach_the_right_inboxes()
    {
        var (_, member, mentor, _, id) = await DocumentInReviewAsync();
        var inbox = _db.Get<InboxService>();
        Assert.Equal(1, (await inbox.CountsAsync(mentor)).Of(NotificationKind.ReviewRequested));

        await _reviews.StartThreadAsync(mentor, id, 1, 3, "Is this the modified PAN?");
        var counts = await inbox.CountsAsync(member);
        Assert.Equal(1, counts.Of(NotificationKind.CommentOnYourDocument));
        Assert.Contains("line 3", (await inbox.ListAsync(member)).Single().Text);

        // Nobody is notified of their own reply.
        await _reviews.ReplyAsync(member, (await _documents.GetAsync(id)).Threads.Single().Id, "Yes, concatenation.");
        Assert.Equal(1, (await inbox.CountsAsync(member)).Unread);
    }

    [Fact]
    public async Task A_verdict_is_announced_to_everyone_who_has_the_document_open()
    {
        var (_, _, mentor, _, id) = await DocumentInReviewAsync();
        var fired = new TaskCompletionSource();
        using var _ = _db.Live.Subscribe(Topics.Document(id), () => { fired.TrySetResult(); return Task.CompletedTask; });

        await _reviews.GiveVerdictAsync(mentor, id, 1, Verdict.Approve, null);

        await fired.Task.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_thread_can_be_attached_to_one_line_and_shows_that_line()
    {
        var (_, _, mentor, _, id) = await DocumentInReviewAsync();
        await _reviews.StartThreadAsync(mentor, id, 1, 3, "Kernel sizes?");
        var thread = (await _documents.GetAsync(id)).Threads.Single();
        Assert.Equal(3, thread.Line);
        Assert.Equal("SPP then PANet.", thread.LineText);
    }

    [Fact]
    public async Task The_diff_between_two_versions_marks_inserted_and_deleted_lines_with_their_numbers()
    {
        var (_, member, _, _, id) = await DocumentInReviewAsync();
        await _documents.PostVersionAsync(member, id, "# Neck\n\nSPP (5, 9, 13) then PANet.\nLeaky ReLU 0.1.\n");

        var diff = await _documents.DiffAsync(id, 1, 2);

        Assert.Contains(diff, l => l is { Kind: DiffLineKind.Deleted, OldLine: 3, Text: "SPP then PANet." });
        Assert.Contains(diff, l => l is { Kind: DiffLineKind.Inserted, NewLine: 3, Text: "SPP (5, 9, 13) then PANet." });
        Assert.Contains(diff, l => l is { Kind: DiffLineKind.Inserted, NewLine: 4, Text: "Leaky ReLU 0.1." });
        Assert.Contains(diff, l => l is { Kind: DiffLineKind.Unchanged, OldLine: 1, NewLine: 1, Text: "# Neck" });
        Assert.Equal(DiffLineKind.Deleted, (await _documents.DiffAsync(id, 2, 1)).First(l => l.Kind != DiffLineKind.Unchanged).Kind);
    }

    [Fact]
    public void Versions_that_differ_almost_everywhere_are_shown_as_replaced_instead_of_aligned()
    {
        var older = string.Join("\n", Enumerable.Range(0, 3_000).Select(i => $"old line {i}"));
        var newer = string.Join("\n", Enumerable.Range(0, 3_000).Select(i => $"new line {i}"));

        var diff = DesignDocumentService.Diff(older, newer);

        Assert.Equal(6_000, diff.Count);
        Assert.All(diff.Take(3_000), l => Assert.Equal(DiffLineKind.Deleted, l.Kind));
        Assert.Equal(new DiffLine(DiffLineKind.Inserted, null, 3_000, "new line 2999"), diff[^1]);
    }

    [Fact]
    public async Task Rendered_versions_keep_tables_task_lists_and_code_blocks()
    {
        var projectId = await _db.AddProjectAsync();
        var member = await _db.AddUserAsync("member1", Roles.Member);
        var id = await _documents.CreateAsync(member, projectId, "Plan", null, "| a | b |\n|---|---|\n| 1 | 2 |\n\n- [x] done\n\n```python\nx = 1\n```\n");
        var html = (await _documents.GetVersionAsync(id, 1)).Html;
        Assert.Contains("<table", html);
        Assert.Contains("☑", html);
        Assert.Contains("<code>", html);
    }

    [Fact]
    public async Task A_document_over_one_megabyte_is_refused_and_nothing_is_stored()
    {
        var (projectId, member, _, _, id) = await DocumentInReviewAsync();
        var before = await StoredAsync();
        var huge = "# Big\n\n" + new string('x', DesignLimits.MaxMarkdownBytes);

        var create = await Assert.ThrowsAsync<PortalError>(() => _documents.CreateAsync(member, projectId, "Huge", ModelComponent.Loss, huge));
        var post = await Assert.ThrowsAsync<PortalError>(() => _documents.PostVersionAsync(member, id, huge));

        Assert.Equal(PortalErrorKind.Validation, create.Kind);
        Assert.Contains("limit is 1 MB", post.Message);
        Assert.Equal(before, await StoredAsync());
    }

    [Theory]
    [InlineData("Hello <script>alert(1)</script>")]
    [InlineData("<img src=x onerror=\"alert(1)\">")]
    [InlineData("[click](javascript:alert(1))")]
    [InlineData("<iframe src=\"https://example.com\"></iframe>")]
    public async Task Script_in_markdown_is_refused_with_a_clear_error_and_nothing_is_stored(string markdown)
    {
        var (_, member, _, _, id) = await DocumentInReviewAsync();
        var before = await StoredAsync();

        var error = await Assert.ThrowsAsync<PortalError>(() => _documents.PostVersionAsync(member, id, "# Neck\n\n" + markdown));

        Assert.Equal(PortalErrorKind.Validation, error.Kind);
        Assert.Contains("script", error.Message);
        Assert.Equal(before, await StoredAsync());
    }

    [Fact]
    public async Task Script_shown_inside_a_code_block_is_text_and_is_allowed()
    {
        var (_, member, _, _, id) = await DocumentInReviewAsync();
        await _documents.PostVersionAsync(member, id, "# Neck\n\n```html\n<script>alert(1)</script>\n```\n");
        var html = (await _documents.GetVersionAsync(id, 2)).Html;
        Assert.Contains("&lt;script&gt;", html);
        Assert.DoesNotContain("<script>", html);
    }

    [Fact]
    public async Task The_author_cannot_approve_their_own_document()
    {
        var (_, member, _, _, id) = await DocumentInReviewAsync();
        var before = await StoredAsync();

        var error = await Assert.ThrowsAsync<PortalError>(() => _reviews.GiveVerdictAsync(member, id, 1, Verdict.Approve, null));

        Assert.Equal(PortalErrorKind.Forbidden, error.Kind);
        Assert.Equal("You cannot approve your own document.", error.Message);
        Assert.Equal(before, await StoredAsync());
        var request = await Assert.ThrowsAsync<PortalError>(() => _reviews.RequestReviewAsync(member, id, member.UserId));
        Assert.Equal(PortalErrorKind.Validation, request.Kind);
    }

    [Fact]
    public async Task Approving_a_version_that_is_no_longer_the_latest_is_refused()
    {
        var (_, member, mentor, _, id) = await DocumentInReviewAsync();
        await _documents.PostVersionAsync(member, id, "# Neck v2");
        var before = await StoredAsync();

        var error = await Assert.ThrowsAsync<PortalError>(() => _reviews.GiveVerdictAsync(mentor, id, 1, Verdict.Approve, "fine"));

        Assert.Equal(PortalErrorKind.Conflict, error.Kind);
        Assert.Contains("Version 1 is no longer the latest; version 2 is", error.Message);
        Assert.Equal(before, await StoredAsync());
        Assert.Equal(DesignDocumentState.InReview, (await _documents.GetAsync(id)).State);
    }

    [Fact]
    public async Task A_comment_on_a_deleted_thread_is_refused()
    {
        var (_, member, mentor, _, id) = await DocumentInReviewAsync();
        var threadId = await _reviews.StartThreadAsync(mentor, id, 1, null, "Typo in the title.");
        await _reviews.DeleteThreadAsync(mentor, threadId);
        var before = await StoredAsync();

        var error = await Assert.ThrowsAsync<PortalError>(() => _reviews.ReplyAsync(member, threadId, "Fixed."));

        Assert.Equal(PortalErrorKind.Conflict, error.Kind);
        Assert.Contains("deleted", error.Message);
        Assert.Equal(before, await StoredAsync());
        Assert.Empty((await _documents.GetAsync(id)).Threads);
    }

    [Fact]
    public async Task Only_the_author_posts_versions_and_requests_reviewers()
    {
        var (_, _, mentor, lead, id) = await DocumentInReviewAsync();
        var other = await _db.AddUserAsync("member2", Roles.Member);
        var before = await StoredAsync();

        Assert.Equal(PortalErrorKind.Forbidden, (await Assert.ThrowsAsync<PortalError>(() => _documents.PostVersionAsync(other, id, "# Mine now"))).Kind);
        Assert.Equal(PortalErrorKind.Forbidden, (await Assert.ThrowsAsync<PortalError>(() => _reviews.RequestReviewAsync(mentor, id, lead.UserId))).Kind);
        Assert.Equal(before, await StoredAsync());
    }

    [Fact]
    public async Task Only_requested_reviewers_give_verdicts_and_only_mentors_and_leads_can_be_requested()
    {
        var (_, member, _, lead, id) = await DocumentInReviewAsync();
        var other = await _db.AddUserAsync("member2", Roles.Member);
        var before = await StoredAsync();

        Assert.Equal(PortalErrorKind.Forbidden, (await Assert.ThrowsAsync<PortalError>(() => _reviews.GiveVerdictAsync(lead, id, 1, Verdict.Approve, null))).Kind);
        var notReviewer = await Assert.ThrowsAsync<PortalError>(() => _reviews.RequestReviewAsync(member, id, other.UserId));
        Assert.Contains("not a mentor or a lead", notReviewer.Message);
        Assert.Equal(before, await StoredAsync());
    }

    [Fact]
    public async Task A_thread_on_a_line_the_version_does_not_have_is_refused()
    {
        var (_, _, mentor, _, id) = await DocumentInReviewAsync();
        var before = await StoredAsync();
        var error = await Assert.ThrowsAsync<PortalError>(() => _reviews.StartThreadAsync(mentor, id, 1, 99, "?"));
        Assert.Contains("there is no line 99", error.Message);
        Assert.Equal(before, await StoredAsync());
    }

    [Fact]
    public async Task A_second_document_for_the_same_component_is_refused()
    {
        var (projectId, member, _, _, _) = await DocumentInReviewAsync();
        var error = await Assert.ThrowsAsync<PortalError>(() => _documents.CreateAsync(member, projectId, "Neck again", ModelComponent.Neck, "# Neck"));
        Assert.Equal(PortalErrorKind.Conflict, error.Kind);
    }
}
