using Portal.Web.Features.Activity;
using Portal.Web.Features.Tasks;
using Portal.Web.Infrastructure;
using Portal.Web.Tests.Tasks;

namespace Portal.Web.Tests.Activity;

public sealed class ActivityFeedTests : IAsyncLifetime
{
    private BoardDatabase _db = default!;

    public async Task InitializeAsync() => _db = await BoardDatabase.CreateAsync();
    public async Task DisposeAsync() => await _db.DisposeAsync();

    [Fact]
    public async Task The_feed_lists_who_did_what_newest_first()
    {
        var id = await _db.AddTaskAsync("Checklist: post-processing");
        await _db.Claims.ClaimAsync(_db.Members[0], id);
        await _db.Claims.SubmitForReviewAsync(_db.Members[0], id);
        await _db.Claims.CompleteAsync(_db.Lead, id);

        var feed = await _db.Get<ActivityFeed>().ListAsync(_db.ProjectId);

        Assert.Equal(
            [(_db.Lead.DisplayName, "marked “Checklist: post-processing” done"),
             (_db.Members[0].DisplayName, "sent “Checklist: post-processing” to review"),
             (_db.Members[0].DisplayName, "claimed “Checklist: post-processing”")],
            feed.Select(f => (f.UserName, f.Text)));
    }

    [Fact]
    public async Task A_refused_change_leaves_no_activity_entry()
    {
        var id = await _db.AddTaskAsync(status: ProjectTaskStatus.Done);
        await Assert.ThrowsAsync<PortalError>(() => _db.Claims.ClaimAsync(_db.Members[0], id));
        Assert.Empty(await _db.Get<ActivityFeed>().ListAsync(_db.ProjectId));
    }

    [Fact]
    public async Task The_feed_of_an_unknown_project_says_not_found() =>
        await Assert.ThrowsAsync<PortalError>(() => _db.Get<ActivityFeed>().ListAsync(31337));
}
