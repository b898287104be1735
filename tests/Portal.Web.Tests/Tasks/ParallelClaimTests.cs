using Microsoft.EntityFrameworkCore;
using Portal.Web.Features.Tasks;
using Portal.Web.Infrastructure;

namespace Portal.Web.Tests.Tasks;

/// <summary>Many claims at the same moment against a real SQLite file, each through its own connection.</summary>
public sealed class ParallelClaimTests
{
    [Fact]
    public async Task Fifty_parallel_claims_on_one_task_leave_exactly_one_owner_and_tell_the_others_why()
    {
        await using var db = await BoardDatabase.CreateAsync(members: 50);
        var id = await db.AddTaskAsync();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var attempts = db.Members.Select(member => Task.Run(async () =>
        {
            await start.Task;
            try { await db.Claims.ClaimAsync(member, id); return (member, error: (PortalError?)null); }
            catch (PortalError e) { return (member, error: e); }
        })).ToList();
        start.SetResult();
        var results = await Task.WhenAll(attempts);

        var winners = results.Where(r => r.error is null).ToList();
        var winner = Assert.Single(winners).member;
        Assert.All(results.Where(r => r.error is not null), r =>
        {
            Assert.Equal(PortalErrorKind.Conflict, r.error!.Kind);
            Assert.Contains(winner.DisplayName, r.error.Message);
        });
        var task = await db.TaskAsync(id);
        Assert.Equal((ProjectTaskStatus.Claimed, winner.UserId, 1), (task.Status, task.AssigneeId, task.Version));
        Assert.Equal(1, await db.QueryAsync(d => d.Activity.CountAsync()));
    }

    [Fact]
    public async Task Fifty_parallel_claims_by_one_member_on_different_tasks_stop_at_the_limit()
    {
        await using var db = await BoardDatabase.CreateAsync(members: 1, claimLimit: 3);
        var member = db.Members[0];
        var ids = new List<long>();
        for (var i = 0; i < 50; i++) ids.Add(await db.AddTaskAsync($"task {i}"));
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var attempts = ids.Select(id => Task.Run(async () =>
        {
            await start.Task;
            try { await db.Claims.ClaimAsync(member, id); return true; }
            catch (PortalError e) when (e.Message.Contains("limit")) { return false; }
        })).ToList();
        start.SetResult();
        var won = (await Task.WhenAll(attempts)).Count(ok => ok);

        Assert.Equal(3, won);
        Assert.Equal(3, await db.QueryAsync(d => d.Tasks.CountAsync(t => t.AssigneeId == member.UserId && t.Status == ProjectTaskStatus.Claimed)));
    }
}
