using Portal.Web.Features.Account;
using Portal.Web.Features.Inbox;
using Portal.Web.Infrastructure;
using Portal.Web.Tests.Design;

namespace Portal.Web.Tests.Inbox;

public sealed class InboxServiceTests : IDisposable
{
    private readonly FeatureDatabase _db = new();
    private readonly InboxService _inbox;

    public InboxServiceTests() => _inbox = _db.Get<InboxService>();

    public void Dispose() => _db.Dispose();

    private async Task NotifyAsync(Actor to, Actor from, NotificationKind kind, string text)
    {
        await using var db = _db.CreateDbContext();
        _db.Inbox.Add(db, to.UserId, from.UserId, kind, text, "/inbox");
        await db.SaveChangesAsync();
        _db.Inbox.Announce([to.UserId]);
        _db.Clock.Advance(TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task Unread_counts_are_kept_per_kind_and_reading_lowers_them()
    {
        var member = await _db.AddUserAsync("member1", Roles.Member);
        var mentor = await _db.AddUserAsync("mentor1", Roles.Mentor);
        await NotifyAsync(member, mentor, NotificationKind.CommentOnYourDocument, "Comment");
        await NotifyAsync(member, mentor, NotificationKind.CommentOnYourDocument, "Another comment");
        await NotifyAsync(member, mentor, NotificationKind.TaskAssigned, "Task");

        var counts = await _inbox.CountsAsync(member);
        Assert.Equal((3, 2, 1, 0), (counts.Unread, counts.Of(NotificationKind.CommentOnYourDocument), counts.Of(NotificationKind.TaskAssigned), counts.Of(NotificationKind.ReviewRequested)));

        var newest = (await _inbox.ListAsync(member)).First();
        Assert.Equal("Task", newest.Text);
        await _inbox.MarkReadAsync(member, newest.Id);
        Assert.Equal(2, (await _inbox.CountsAsync(member)).Unread);
        Assert.Equal(2, (await _inbox.ListAsync(member, unreadOnly: true)).Count);

        await _inbox.MarkAllReadAsync(member);
        Assert.Equal(0, (await _inbox.CountsAsync(member)).Unread);
        Assert.Equal(3, (await _inbox.ListAsync(member)).Count);
    }

    [Fact]
    public async Task Nobody_reads_or_marks_another_users_notifications()
    {
        var member = await _db.AddUserAsync("member1", Roles.Member);
        var other = await _db.AddUserAsync("member2", Roles.Member);
        await NotifyAsync(member, other, NotificationKind.ReviewRequested, "Review please");
        var id = (await _inbox.ListAsync(member)).Single().Id;

        Assert.Empty(await _inbox.ListAsync(other));
        var error = await Assert.ThrowsAsync<PortalError>(() => _inbox.MarkReadAsync(other, id));
        Assert.Equal(PortalErrorKind.NotFound, error.Kind);
        Assert.Equal(1, (await _inbox.CountsAsync(member)).Unread);
    }

    [Fact]
    public async Task Marking_read_tells_the_users_other_open_pages()
    {
        var member = await _db.AddUserAsync("member1", Roles.Member);
        var mentor = await _db.AddUserAsync("mentor1", Roles.Mentor);
        await NotifyAsync(member, mentor, NotificationKind.ReviewRequested, "Review please");
        var fired = new TaskCompletionSource();
        using var _ = _db.Live.Subscribe(Topics.Inbox(member.UserId), () => { fired.TrySetResult(); return Task.CompletedTask; });

        await _inbox.MarkAllReadAsync(member);

        await fired.Task.WaitAsync(TimeSpan.FromSeconds(5));
    }
}
