using Microsoft.EntityFrameworkCore;
using Portal.Web.Features.Inbox;
using Portal.Web.Features.Tasks;
using Portal.Web.Infrastructure;

namespace Portal.Web.Tests.Tasks;

public sealed class TaskClaimsTests : IAsyncLifetime
{
    private BoardDatabase _db = default!;

    public async Task InitializeAsync() => _db = await BoardDatabase.CreateAsync();
    public async Task DisposeAsync() => await _db.DisposeAsync();

    [Fact]
    public async Task A_member_claims_an_open_task_and_it_is_recorded_in_the_activity_feed()
    {
        var id = await _db.AddTaskAsync();
        var member = _db.Members[0];

        await _db.Claims.ClaimAsync(member, id);

        var task = await _db.TaskAsync(id);
        Assert.Equal(ProjectTaskStatus.Claimed, task.Status);
        Assert.Equal(member.UserId, task.AssigneeId);
        Assert.Equal(1, task.Version);
        var entry = Assert.Single(await _db.QueryAsync(db => db.Activity.ToListAsync()));
        Assert.Equal(member.UserId, entry.UserId);
        Assert.Contains("claimed", entry.Text);
    }

    [Fact]
    public async Task A_claim_publishes_the_project_topic_so_open_boards_refresh()
    {
        var id = await _db.AddTaskAsync();
        var fired = new TaskCompletionSource();
        using var _ = _db.Live.Subscribe(Topics.Project(_db.ProjectId), () => { fired.TrySetResult(); return Task.CompletedTask; });

        await _db.Claims.ClaimAsync(_db.Members[0], id);

        await fired.Task.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_second_member_is_told_who_already_claimed_the_task()
    {
        var id = await _db.AddTaskAsync();
        await _db.Claims.ClaimAsync(_db.Members[0], id);

        var error = await Assert.ThrowsAsync<PortalError>(() => _db.Claims.ClaimAsync(_db.Members[1], id));

        Assert.Equal(PortalErrorKind.Conflict, error.Kind);
        Assert.Contains(_db.Members[0].DisplayName, error.Message);
        Assert.Equal(_db.Members[0].UserId, (await _db.TaskAsync(id)).AssigneeId);
    }

    [Fact]
    public async Task A_member_at_the_claim_limit_cannot_claim_another_task_and_is_told_the_limit()
    {
        var member = _db.Members[0];
        for (var i = 0; i < 3; i++) await _db.Claims.ClaimAsync(member, await _db.AddTaskAsync($"task {i}"));
        var fourth = await _db.AddTaskAsync("one too many");

        var error = await Assert.ThrowsAsync<PortalError>(() => _db.Claims.ClaimAsync(member, fourth));

        Assert.Contains("limit", error.Message);
        Assert.Equal(ProjectTaskStatus.Open, (await _db.TaskAsync(fourth)).Status);
    }

    [Fact]
    public async Task Work_in_review_still_counts_against_the_limit_and_done_work_does_not()
    {
        var member = _db.Members[0];
        await _db.AddTaskAsync("in review", status: ProjectTaskStatus.InReview, assigneeId: member.UserId);
        await _db.AddTaskAsync("done", status: ProjectTaskStatus.Done, assigneeId: member.UserId);
        await _db.AddTaskAsync("done too", status: ProjectTaskStatus.Done, assigneeId: member.UserId);
        await _db.Claims.ClaimAsync(member, await _db.AddTaskAsync("second"));
        await _db.Claims.ClaimAsync(member, await _db.AddTaskAsync("third"));

        await Assert.ThrowsAsync<PortalError>(async () => await _db.Claims.ClaimAsync(member, await _db.AddTaskAsync("fourth")));
    }

    [Fact]
    public async Task Claiming_a_done_task_is_refused_and_it_stays_done()
    {
        var id = await _db.AddTaskAsync(status: ProjectTaskStatus.Done, assigneeId: _db.Members[1].UserId);

        var error = await Assert.ThrowsAsync<PortalError>(() => _db.Claims.ClaimAsync(_db.Members[0], id));

        Assert.Contains("done", error.Message);
        var task = await _db.TaskAsync(id);
        Assert.Equal((ProjectTaskStatus.Done, _db.Members[1].UserId, 0), (task.Status, task.AssigneeId, task.Version));
    }

    [Fact]
    public async Task Claiming_an_unknown_task_says_it_does_not_exist()
    {
        var error = await Assert.ThrowsAsync<PortalError>(() => _db.Claims.ClaimAsync(_db.Members[0], 98765));
        Assert.Equal(PortalErrorKind.NotFound, error.Kind);
    }

    [Fact]
    public async Task A_mentor_cannot_claim_work()
    {
        var id = await _db.AddTaskAsync();
        var error = await Assert.ThrowsAsync<PortalError>(() => _db.Claims.ClaimAsync(_db.Mentor, id));
        Assert.Equal(PortalErrorKind.Forbidden, error.Kind);
        Assert.Equal(ProjectTaskStatus.Open, (await _db.TaskAsync(id)).Status);
    }

    [Fact]
    public async Task Unclaiming_returns_the_task_to_open_and_frees_the_limit()
    {
        var member = _db.Members[0];
        var id = await _db.AddTaskAsync();
        await _db.Claims.ClaimAsync(member, id);

        await _db.Claims.UnclaimAsync(member, id);

        var task = await _db.TaskAsync(id);
        Assert.Equal((ProjectTaskStatus.Open, (string?)null), (task.Status, task.AssigneeId));
    }

    [Fact]
    public async Task A_member_cannot_unclaim_someone_elses_task()
    {
        var id = await _db.AddTaskAsync();
        await _db.Claims.ClaimAsync(_db.Members[0], id);

        var error = await Assert.ThrowsAsync<PortalError>(() => _db.Claims.UnclaimAsync(_db.Members[1], id));

        Assert.Equal(PortalErrorKind.Forbidden, error.Kind);
        Assert.Equal(_db.Members[0].UserId, (await _db.TaskAsync(id)).AssigneeId);
    }

    [Fact]
    public async Task Work_moves_from_claimed_to_review_by_its_holder_and_to_done_by_a_lead()
    {
        var member = _db.Members[0];
        var id = await _db.AddTaskAsync();
        await _db.Claims.ClaimAsync(member, id);
        await _db.Claims.SubmitForReviewAsync(member, id);
        await Assert.ThrowsAsync<PortalError>(() => _db.Claims.CompleteAsync(member, id));

        await _db.Claims.CompleteAsync(_db.Lead, id);

        Assert.Equal(ProjectTaskStatus.Done, (await _db.TaskAsync(id)).Status);
        Assert.Equal(3, await _db.QueryAsync(db => db.Activity.CountAsync()));
    }

    [Fact]
    public async Task A_lead_assigns_a_task_and_the_assignee_gets_a_notification()
    {
        var id = await _db.AddTaskAsync();
        var member = _db.Members[2];

        await _db.Claims.AssignAsync(_db.Lead, id, member.UserId);

        var task = await _db.TaskAsync(id);
        Assert.Equal((ProjectTaskStatus.Claimed, member.UserId), (task.Status, task.AssigneeId));
        var note = Assert.Single(await _db.QueryAsync(db => db.Notifications.ToListAsync()));
        Assert.Equal((member.UserId, NotificationKind.TaskAssigned), (note.UserId, note.Kind));
        Assert.Contains($"/projects/{_db.ProjectId}/board?task={id}", note.Link);
    }

    [Fact]
    public async Task A_lead_can_move_a_claimed_task_to_someone_else_but_not_past_their_limit()
    {
        var from = _db.Members[0];
        var to = _db.Members[1];
        var id = await _db.AddTaskAsync();
        await _db.Claims.ClaimAsync(from, id);
        await _db.Claims.AssignAsync(_db.Lead, id, to.UserId);
        Assert.Equal(to.UserId, (await _db.TaskAsync(id)).AssigneeId);

        for (var i = 0; i < 2; i++) await _db.Claims.ClaimAsync(to, await _db.AddTaskAsync($"held {i}"));
        var extra = await _db.AddTaskAsync("extra");
        var error = await Assert.ThrowsAsync<PortalError>(() => _db.Claims.AssignAsync(_db.Lead, extra, to.UserId));

        Assert.Contains("limit", error.Message);
        Assert.Null((await _db.TaskAsync(extra)).AssigneeId);
    }

    [Fact]
    public async Task A_member_cannot_assign_work_and_nothing_changes()
    {
        var id = await _db.AddTaskAsync();
        var error = await Assert.ThrowsAsync<PortalError>(() => _db.Claims.AssignAsync(_db.Members[0], id, _db.Members[1].UserId));
        Assert.Equal(PortalErrorKind.Forbidden, error.Kind);
        Assert.Null((await _db.TaskAsync(id)).AssigneeId);
        Assert.Empty(await _db.QueryAsync(db => db.Notifications.ToListAsync()));
    }

    [Fact]
    public async Task Assigning_to_an_unknown_or_deactivated_user_is_refused()
    {
        var id = await _db.AddTaskAsync();
        await Assert.ThrowsAsync<PortalError>(() => _db.Claims.AssignAsync(_db.Lead, id, "nobody"));
        await _db.QueryAsync(async db =>
        {
            var user = await db.Users.SingleAsync(u => u.Id == _db.Members[3].UserId);
            user.IsActive = false;
            return await db.SaveChangesAsync();
        });
        var error = await Assert.ThrowsAsync<PortalError>(() => _db.Claims.AssignAsync(_db.Lead, id, _db.Members[3].UserId));
        Assert.Contains("deactivated", error.Message);
        Assert.Null((await _db.TaskAsync(id)).AssigneeId);
    }
}
