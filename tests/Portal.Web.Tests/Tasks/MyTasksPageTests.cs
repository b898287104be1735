using Bunit;
using Portal.Web.Features.Tasks;

namespace Portal.Web.Tests.Tasks;

/// <summary>The page of one's own tasks across projects, over the real services.</summary>
public sealed class MyTasksPageTests : BoardComponentContext
{
    [Fact]
    public async Task A_member_sees_the_tasks_they_hold_with_links_that_open_each_on_its_board()
    {
        var held = await Db.AddTaskAsync("Held work");
        await Db.AddTaskAsync("Someone else's");
        await Db.Claims.ClaimAsync(Db.Members[0], held);
        ActAs(Db.Members[0]);

        var page = Render<MyTasksPage>();

        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=my-task]")));
        Assert.Equal($"projects/{Db.ProjectId}/board?task={held}", page.Find($"[data-testid=my-task][data-task-id='{held}'] a").GetAttribute("href"));
    }

    [Fact]
    public async Task With_nothing_held_the_page_says_so_and_points_to_projects_with_open_work()
    {
        await Db.AddTaskAsync("Open one");
        await Db.AddTaskAsync("Open two");
        ActAs(Db.Members[0]);

        var page = Render<MyTasksPage>();

        page.WaitForAssertion(() => Assert.Contains("You hold no task right now.", page.Find("[data-testid=my-tasks-empty]").TextContent));
        Assert.Contains("2 open tasks", page.Find("[data-testid=open-work]").TextContent);
    }

    [Fact]
    public void A_mentor_is_told_that_mentors_do_not_claim_and_where_their_reviews_are()
    {
        ActAs(Db.Mentor);

        var page = Render<MyTasksPage>();

        page.WaitForAssertion(() => Assert.Contains("members and leads claim tasks", page.Find("[data-testid=my-tasks-empty]").TextContent));
    }
}
