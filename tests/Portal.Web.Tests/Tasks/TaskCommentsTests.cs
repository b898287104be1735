using Microsoft.EntityFrameworkCore;
using Portal.Web.Features.Activity;
using Portal.Web.Features.Tasks;
using Portal.Web.Infrastructure;

namespace Portal.Web.Tests.Tasks;

/// <summary>Comments on tasks over the real services and a real SQLite file.</summary>
public sealed class TaskCommentsTests : IAsyncLifetime
{
    private BoardDatabase _db = default!;

    public async Task InitializeAsync() => _db = await BoardDatabase.CreateAsync();
    public async Task DisposeAsync() => await _db.DisposeAsync();

    private TaskComments Comments => _db.Get<TaskComments>();

    [Fact]
    public async Task A_comment_is_listed_under_its_task_with_its_author_and_its_markdown_rendered()
    {
        var taskId = await _db.AddTaskAsync("Checklist: anchors");

        await Comments.AddAsync(_db.Members[0], taskId, "The anchors are in **cfg/yolov4.cfg**, line 969.");
        await Comments.AddAsync(_db.Mentor, taskId, "  Check the `mask` lines too.  ");

        var comments = await Comments.ListAsync(taskId);
        Assert.Equal([_db.Members[0].DisplayName, _db.Mentor.DisplayName], comments.Select(c => c.AuthorName));
        Assert.Contains("<strong>cfg/yolov4.cfg</strong>", comments[0].BodyHtml);
        Assert.Contains("<code>mask</code>", comments[1].BodyHtml);
        Assert.Empty(await Comments.ListAsync(await _db.AddTaskAsync("Another task")));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   \n  ")]
    public async Task An_empty_comment_is_refused_and_nothing_is_stored(string body)
    {
        var taskId = await _db.AddTaskAsync();

        var error = await Assert.ThrowsAsync<PortalError>(() => Comments.AddAsync(_db.Members[0], taskId, body));

        Assert.Equal((PortalErrorKind.Validation, "Write the comment first."), (error.Kind, error.Message));
        Assert.Equal(0, await _db.QueryAsync(db => db.TaskComments.CountAsync()));
    }

    [Fact]
    public async Task A_comment_over_the_limit_is_refused_with_the_limit_and_its_length()
    {
        var taskId = await _db.AddTaskAsync();

        var error = await Assert.ThrowsAsync<PortalError>(() => Comments.AddAsync(_db.Members[0], taskId, new string('x', TaskComments.MaxBodyLength + 1)));

        Assert.Equal(PortalErrorKind.Validation, error.Kind);
        Assert.Contains("at most 4,000 characters (this one has 4,001)", error.Message);
        Assert.Equal(0, await _db.QueryAsync(db => db.TaskComments.CountAsync()));
        // At the limit it is stored.
        await Comments.AddAsync(_db.Members[0], taskId, new string('x', TaskComments.MaxBodyLength));
        Assert.Equal(1, await _db.QueryAsync(db => db.TaskComments.CountAsync()));
    }

    [Fact]
    public async Task A_comment_with_script_is_refused_with_what_would_be_removed()
    {
        var taskId = await _db.AddTaskAsync();

        var error = await Assert.ThrowsAsync<PortalError>(() => Comments.AddAsync(_db.Members[0], taskId, "See <script>alert(1)</script> here"));

        Assert.Equal(PortalErrorKind.Validation, error.Kind);
        Assert.Contains("<script>", error.Message);
        Assert.Equal(0, await _db.QueryAsync(db => db.TaskComments.CountAsync()));
    }

    [Fact]
    public async Task A_comment_on_a_task_that_does_not_exist_says_not_found()
    {
        var error = await Assert.ThrowsAsync<PortalError>(() => Comments.AddAsync(_db.Members[0], 31337, "Hello"));
        Assert.Equal(PortalErrorKind.NotFound, error.Kind);
    }

    [Fact]
    public async Task A_deactivated_member_cannot_comment()
    {
        var taskId = await _db.AddTaskAsync();
        await _db.QueryAsync(db => db.Users.Where(u => u.Id == _db.Members[1].UserId).ExecuteUpdateAsync(s => s.SetProperty(u => u.IsActive, false)));

        var error = await Assert.ThrowsAsync<PortalError>(() => Comments.AddAsync(_db.Members[1], taskId, "Still here?"));

        Assert.Equal(PortalErrorKind.Forbidden, error.Kind);
        Assert.Equal(0, await _db.QueryAsync(db => db.TaskComments.CountAsync()));
    }

    [Fact]
    public async Task Only_the_author_removes_a_comment()
    {
        var taskId = await _db.AddTaskAsync();
        var id = await Comments.AddAsync(_db.Members[0], taskId, "Mosaic is on by default.");

        var refused = await Assert.ThrowsAsync<PortalError>(() => Comments.DeleteAsync(_db.Lead, id));
        Assert.Equal(PortalErrorKind.Forbidden, refused.Kind);
        Assert.Single(await Comments.ListAsync(taskId));

        await Comments.DeleteAsync(_db.Members[0], id);
        Assert.Empty(await Comments.ListAsync(taskId));
        var again = await Assert.ThrowsAsync<PortalError>(() => Comments.DeleteAsync(_db.Members[0], id));
        Assert.Equal(PortalErrorKind.NotFound, again.Kind);
    }

    [Fact]
    public async Task A_comment_announces_its_task_and_its_project_and_enters_the_feed_with_a_link_to_the_task()
    {
        var taskId = await _db.AddTaskAsync("Checklist: NMS");
        var heard = new List<string>();
        using var onTask = _db.Live.Subscribe(Topics.Task(taskId), () => { lock (heard) heard.Add("task"); return Task.CompletedTask; });
        using var onProject = _db.Live.Subscribe(Topics.Project(_db.ProjectId), () => { lock (heard) heard.Add("project"); return Task.CompletedTask; });

        await Comments.AddAsync(_db.Members[0], taskId, "DIoU-NMS, threshold 0.45.");

        Assert.Equal(["project", "task"], heard.Order());
        var entry = Assert.Single(await _db.Get<ActivityFeed>().ListAsync(_db.ProjectId));
        Assert.Equal((_db.Members[0].DisplayName, "commented on “Checklist: NMS”", $"projects/{_db.ProjectId}/board?task={taskId}"),
            (entry.UserName, entry.Text, entry.Link));
    }

    [Fact]
    public async Task Removing_a_task_removes_its_comments()
    {
        var taskId = await _db.AddTaskAsync();
        await Comments.AddAsync(_db.Members[0], taskId, "First.");

        await _db.QueryAsync(db => db.Tasks.Where(t => t.Id == taskId).ExecuteDeleteAsync());

        Assert.Equal(0, await _db.QueryAsync(db => db.TaskComments.CountAsync()));
    }
}
