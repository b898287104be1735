using Microsoft.EntityFrameworkCore;
using Portal.Web.Features.Defects;
using Portal.Web.Features.Inbox;
using Portal.Web.Features.Runs;
using Portal.Web.Infrastructure;
using Portal.Web.Tests.Tasks;

namespace Portal.Web.Tests.Defects;

/// <summary>Every change of a defect reaches the owner's and the component lead's inbox (not the actor's) and the activity feed.</summary>
public sealed class DefectNotificationTests : IAsyncLifetime
{
    private BoardDatabase _db = default!;
    private DefectService _defects = default!;

    public async Task InitializeAsync()
    {
        _db = await BoardDatabase.CreateAsync();
        _defects = _db.Get<DefectService>();
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private Task<(int Owner, int Lead, int Activity)> CountsAsync(string ownerId) => _db.QueryAsync(async db => (
        await db.Notifications.CountAsync(n => n.UserId == ownerId && n.Kind == NotificationKind.Defect),
        await db.Notifications.CountAsync(n => n.UserId == _db.Lead.UserId && n.Kind == NotificationKind.Defect),
        await db.Activity.CountAsync(a => a.Text.Contains("defect"))));

    [Fact]
    public async Task The_owner_and_the_component_lead_hear_of_every_change_the_other_makes_and_each_change_is_in_the_activity_feed()
    {
        var reporter = _db.Members[0];
        var owner = _db.Members[1];
        long verifying;
        await using (var db = _db.CreateDbContext())
        {
            var run = new Run { ProjectId = _db.ProjectId, Recipe = "detector", Status = RunStatus.Succeeded, StartedById = owner.UserId, QueuedAt = _db.Clock.GetUtcNow() };
            db.Runs.Add(run);
            await db.SaveChangesAsync();
            verifying = run.Id;
        }
        var id = await _defects.ReportAsync(reporter, _db.ProjectId, DefectServiceTests.Form());
        Assert.Equal((0, 1, 1), await CountsAsync(owner.UserId));

        // (actor, change, does the owner hear of it, does the lead)
        var steps = new (Actor Actor, Func<int, Task> Change, int ToOwner, int ToLead)[]
        {
            (_db.Lead, v => _defects.SetOwnerAsync(_db.Lead, id, v, owner.UserId), 1, 0),
            (_db.Lead, v => _defects.SetBlockingAsync(_db.Lead, id, v, true), 1, 0),
            (owner, v => _defects.DiagnoseAsync(owner, id, v, "BN momentum differs."), 0, 1),
            (owner, v => _defects.MarkFixedAsync(owner, id, v, "abc1234"), 0, 1),
            (owner, v => _defects.VerifyAsync(owner, id, v, verifying), 0, 1),
            (_db.Lead, v => _defects.ReopenAsync(_db.Lead, id, v), 1, 0),
            (_db.Lead, v => _defects.WontFixAsync(_db.Lead, id, v, "The reference has the same behaviour."), 1, 0),
        };
        for (var version = 0; version < steps.Length; version++)
        {
            var before = await CountsAsync(owner.UserId);
            await steps[version].Change(version);
            var after = await CountsAsync(owner.UserId);
            Assert.Equal((before.Owner + steps[version].ToOwner, before.Lead + steps[version].ToLead, before.Activity + 1), after);
        }
        var links = await _db.QueryAsync(db => db.Notifications.Where(n => n.Kind == NotificationKind.Defect).Select(n => n.Link).Distinct().ToListAsync());
        // Every notification opens the defect it is about.
        Assert.Equal([$"/projects/{_db.ProjectId}/defects?defect={id}"], links);
    }
}
