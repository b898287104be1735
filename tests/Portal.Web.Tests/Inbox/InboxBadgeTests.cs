using Bunit;
using Portal.Web.Components.Layout;
using Portal.Web.Features.Account;
using Portal.Web.Features.Inbox;
using Portal.Web.Tests.Design;

namespace Portal.Web.Tests.Inbox;

public sealed class InboxBadgeTests : FeatureComponentTest
{
    [Fact]
    public async Task The_badge_shows_the_unread_count_and_follows_new_notifications_live()
    {
        var member = await Db.AddUserAsync("member1", Roles.Member);
        var mentor = await Db.AddUserAsync("mentor1", Roles.Mentor);
        ActAs(member);
        var badge = Render<InboxBadge>();
        badge.WaitForAssertion(() => Assert.Empty(badge.FindAll(".mud-badge")));

        await using (var db = Db.CreateDbContext())
        {
            Db.Inbox.Add(db, member.UserId, mentor.UserId, NotificationKind.CommentOnYourDocument, "Changes requested", "/inbox");
            Db.Inbox.Add(db, member.UserId, mentor.UserId, NotificationKind.ReviewRequested, "Review please", "/inbox");
            await db.SaveChangesAsync();
        }
        Db.Inbox.Announce([member.UserId]);

        badge.WaitForAssertion(() => Assert.Equal("2", badge.Find(".mud-badge").TextContent.Trim()));
    }
}
