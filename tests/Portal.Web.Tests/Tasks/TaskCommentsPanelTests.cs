using Bunit;
using MudBlazor;
using Portal.Web.Features.Tasks;

namespace Portal.Web.Tests.Tasks;

/// <summary>A task's comments panel over the real services: posting, the error on the field, and live comments from others.</summary>
public sealed class TaskCommentsPanelTests : BoardComponentContext
{
    private IRenderedComponent<TaskCommentsPanel> RenderPanel(long taskId, Portal.Web.Infrastructure.Actor actor)
    {
        ActAs(actor);
        Render<MudSnackbarProvider>();
        var panel = Render<TaskCommentsPanel>(p => p.Add(c => c.TaskId, taskId).Add(c => c.Actor, actor));
        // The comments load after the first render, which renders the form again with new handlers.
        panel.WaitForElement("[data-testid=task-comments][aria-busy=false]");
        return panel;
    }

    [Fact]
    public async Task A_posted_comment_shows_rendered_and_the_field_is_emptied()
    {
        var taskId = await Db.AddTaskAsync();
        var panel = RenderPanel(taskId, Db.Members[0]);

        panel.Find("textarea[data-testid=task-comment-input]").Input("Use **CIoU** here.");
        await panel.Find("[data-testid=task-comment-post]").ClickAsync(new());

        panel.WaitForAssertion(() => Assert.Equal("<p>Use <strong>CIoU</strong> here.</p>",
            Assert.Single(panel.FindAll("[data-testid=task-comment-body]")).InnerHtml.Trim()));
        Assert.Equal("", panel.Find("textarea[data-testid=task-comment-input]").GetAttribute("value") ?? "");
        Assert.Single(panel.FindAll("[data-testid=task-comment-delete]"));
    }

    [Fact]
    public async Task An_empty_comment_shows_the_error_on_the_field()
    {
        var taskId = await Db.AddTaskAsync();
        var panel = RenderPanel(taskId, Db.Members[0]);

        await panel.Find("[data-testid=task-comment-post]").ClickAsync(new());

        panel.WaitForAssertion(() => Assert.Contains("Write the comment first.", panel.Find("[data-testid=task-comment-field]").TextContent));
        Assert.Empty(panel.FindAll("[data-testid=task-comment]"));
    }

    [Fact]
    public async Task A_comment_someone_else_posts_appears_without_a_reload_and_cannot_be_removed_here()
    {
        var taskId = await Db.AddTaskAsync();
        var panel = RenderPanel(taskId, Db.Members[0]);
        Assert.Empty(panel.FindAll("[data-testid=task-comment]"));

        await Db.Get<TaskComments>().AddAsync(Db.Mentor, taskId, "Check the reference's `scale_x_y`.");

        panel.WaitForAssertion(() => Assert.Contains(Db.Mentor.DisplayName,
            Assert.Single(panel.FindAll("[data-testid=task-comment]")).TextContent), TimeSpan.FromSeconds(5));
        Assert.Empty(panel.FindAll("[data-testid=task-comment-delete]"));
    }
}
