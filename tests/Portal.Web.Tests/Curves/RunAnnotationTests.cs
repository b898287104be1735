using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Testing;
using Portal.Testing.Curves;
using Portal.Web.Features.Account;
using Portal.Web.Features.Curves;
using Portal.Web.Features.Inbox;
using Portal.Web.Infrastructure;

namespace Portal.Web.Tests.Curves;

public sealed class RunAnnotationTests(PortalAppFactory app) : IClassFixture<PortalAppFactory>
{
    private RunAnnotations Annotations => app.Services.GetRequiredService<RunAnnotations>();

    private async Task<Actor> ActorAsync(string userName)
    {
        await using var db = await app.DbFactory.CreateDbContextAsync();
        var user = await db.Users.FirstAsync(u => u.UserName == userName);
        var roles = await db.UserRoles.Where(ur => ur.UserId == user.Id).Join(db.Roles, ur => ur.RoleId, r => r.Id, (_, r) => r.Name!).ToListAsync();
        return new Actor(user.Id, user.DisplayName, roles.ToHashSet());
    }

    private async Task<long> RunWithPointsAsync()
    {
        var runId = await CurveTestData.CreateRunAsync(app, startedBy: "member5");
        await CurveTestData.WritePointsAsync(app, runId, CurveTestData.Curve("train/loss", 100, 1_000), publish: false);
        return runId;
    }

    private Task<int> CountAsync(long runId) => app.WithDbAsync(db => db.Set<RunAnnotation>().CountAsync(a => a.RunId == runId));

    [Fact]
    public async Task A_mentor_pins_a_review_to_a_step_range_and_the_runs_author_is_notified()
    {
        var runId = await RunWithPointsAsync();
        var mentor = await ActorAsync("mentor1");

        var id = await Annotations.AddAsync(mentor, runId, "train/loss", 300, 500, "  Loss plateaus here: check the LR schedule.  ");

        var stored = Assert.Single(await Annotations.ListAsync([runId]));
        Assert.Equal((id, 300L, 500L, "Loss plateaus here: check the LR schedule.", AnnotationState.Open, "train/loss"),
            (stored.Id, stored.FromStep, stored.ToStep, stored.Comment, stored.State, stored.Metric));
        var author = await app.WithDbAsync(db => db.Users.FirstAsync(u => u.UserName == "member5"));
        var notification = await app.WithDbAsync(db => db.Notifications.SingleAsync(n => n.UserId == author.Id && n.Kind == NotificationKind.RunAnnotated && n.Link.Contains($"runs={runId}")));
        Assert.Contains("300-500", notification.Text);
    }

    [Fact]
    public async Task A_lead_moves_a_review_through_its_states()
    {
        var runId = await RunWithPointsAsync();
        var id = await Annotations.AddAsync(await ActorAsync("mentor2"), runId, null, 100, 1_099, "Whole run looks noisy.");
        var lead = await ActorAsync("lead.loss");

        await Annotations.SetStateAsync(lead, id, AnnotationState.NeedsChange);
        Assert.Equal(AnnotationState.NeedsChange, Assert.Single(await Annotations.ListAsync([runId])).State);
        await Annotations.SetStateAsync(lead, id, AnnotationState.Accepted);
        Assert.Equal(AnnotationState.Accepted, Assert.Single(await Annotations.ListAsync([runId])).State);
    }

    [Fact]
    public async Task A_member_can_neither_annotate_nor_change_a_reviews_state()
    {
        var runId = await RunWithPointsAsync();
        var member = await ActorAsync("member2");
        var id = await Annotations.AddAsync(await ActorAsync("mentor1"), runId, null, 200, 300, "Spike at 250.");

        var add = await Assert.ThrowsAsync<PortalError>(() => Annotations.AddAsync(member, runId, null, 200, 300, "Looks fine to me"));
        var state = await Assert.ThrowsAsync<PortalError>(() => Annotations.SetStateAsync(member, id, AnnotationState.Accepted));

        Assert.Equal((PortalErrorKind.Forbidden, PortalErrorKind.Forbidden), (add.Kind, state.Kind));
        Assert.Equal(1, await CountAsync(runId));
        Assert.Equal(AnnotationState.Open, Assert.Single(await Annotations.ListAsync([runId])).State);
    }

    [Theory]
    [InlineData(50L, 200L, "", "outside the run's steps (100-1099)")]
    [InlineData(1_000L, 1_100L, "", "outside the run's steps (100-1099)")]
    [InlineData(300L, 200L, "", "reversed")]
    [InlineData(200L, 300L, "   ", "Write a comment")]
    public async Task Bad_reviews_are_refused_with_a_clear_message_and_nothing_is_stored(long from, long to, string commentOverride, string expected)
    {
        var runId = await RunWithPointsAsync();
        var comment = commentOverride == "" ? "A comment." : commentOverride;
        var mentor = await ActorAsync("mentor1");

        var error = await Assert.ThrowsAsync<PortalError>(() => Annotations.AddAsync(mentor, runId, "train/loss", from, to, comment));

        Assert.Equal(PortalErrorKind.Validation, error.Kind);
        Assert.Contains(expected, error.Message);
        Assert.Equal(0, await CountAsync(runId));
    }

    [Fact]
    public async Task A_review_of_a_run_that_does_not_exist_is_refused()
    {
        var error = await Assert.ThrowsAsync<PortalError>(async () => await Annotations.AddAsync(await ActorAsync("mentor1"), 99_999, null, 1, 2, "Hello"));
        Assert.Equal(PortalErrorKind.NotFound, error.Kind);
        Assert.Contains("no run 99999", error.Message);
    }
}
