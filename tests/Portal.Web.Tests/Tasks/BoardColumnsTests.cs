using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using Portal.Web.Features.Tasks;

namespace Portal.Web.Tests.Tasks;

/// <summary>The board's columns per status over the real services: where a task sits, what the URL keeps, what a role can do.</summary>
public sealed class BoardColumnsTests : BoardComponentContext
{
    private IRenderedComponent<Board> RenderBoard(Portal.Web.Infrastructure.Actor actor, string query = "")
    {
        ActAs(actor);
        Render<MudSnackbarProvider>();
        Render<MudPopoverProvider>();
        Services.GetRequiredService<NavigationManager>().NavigateTo($"projects/{Db.ProjectId}/board{query}");
        return Render<Board>(p => p.Add(b => b.ProjectId, Db.ProjectId));
    }

    [Fact]
    public async Task Without_a_view_in_the_address_the_board_shows_one_column_per_status_with_each_task_in_its_column()
    {
        var open = await Db.AddTaskAsync("Open work");
        var claimed = await Db.AddTaskAsync("Claimed work");
        await Db.Claims.ClaimAsync(Db.Members[1], claimed);

        var board = RenderBoard(Db.Members[0]);

        board.WaitForAssertion(() => Assert.Equal(["Open", "Claimed", "InReview", "Done"],
            board.FindAll("[data-testid=board-column]").Select(c => c.GetAttribute("data-status")!).ToArray()));
        board.WaitForElement($"[data-testid=board-column][data-status=Open] [data-testid=task-card][data-task-id='{open}']", TimeSpan.FromSeconds(20));
        board.WaitForElement($"[data-testid=board-column][data-status=Claimed] [data-testid=task-card][data-task-id='{claimed}']", TimeSpan.FromSeconds(20));
        Assert.Empty(board.FindAll("[data-testid=task-row]"));
    }

    [Fact]
    public async Task Opening_a_task_puts_it_in_the_address_and_the_view_toggle_keeps_it()
    {
        var id = await Db.AddTaskAsync("Linked work");
        var board = RenderBoard(Db.Members[0]);
        // The board loads its tasks after the first render.
        await board.WaitForElement($"[data-testid=task-card][data-task-id='{id}'] a", TimeSpan.FromSeconds(20)).ClickAsync(new());

        var nav = Services.GetRequiredService<NavigationManager>();
        board.WaitForAssertion(() => Assert.EndsWith($"/projects/{Db.ProjectId}/board?task={id}", nav.Uri));
        Assert.Equal("Linked work", board.Find("[data-testid=task-panel-title]").TextContent);
        Assert.EndsWith($"board?view=table&task={id}", board.Find("[data-testid=view-table]").GetAttribute("href"));
    }

    [Fact]
    public async Task The_table_sorts_by_title_when_the_address_says_so()
    {
        await Db.AddTaskAsync("b second");
        await Db.AddTaskAsync("a first");
        await Db.AddTaskAsync("c third");

        var board = RenderBoard(Db.Members[0], "?view=table&sort=title");

        board.WaitForAssertion(() => Assert.Equal(["a first", "b second", "c third"],
            board.FindAll("[data-testid=task-row] td.title").Select(t => t.TextContent.Trim()).ToArray()));
    }

    [Theory]
    [InlineData(ProjectTaskStatus.Open, ProjectTaskStatus.Claimed, true, TaskAction.Claim)]
    [InlineData(ProjectTaskStatus.Claimed, ProjectTaskStatus.InReview, true, TaskAction.SubmitForReview)]
    [InlineData(ProjectTaskStatus.Claimed, ProjectTaskStatus.Open, true, TaskAction.Unclaim)]
    [InlineData(ProjectTaskStatus.InReview, ProjectTaskStatus.Done, true, null)]
    [InlineData(ProjectTaskStatus.Open, ProjectTaskStatus.Done, true, null)]
    [InlineData(ProjectTaskStatus.Claimed, ProjectTaskStatus.InReview, false, null)]
    public void A_drop_between_columns_is_the_action_the_rules_give_the_member(ProjectTaskStatus from, ProjectTaskStatus to, bool mine, TaskAction? expected)
    {
        var member = Db.Members[0];
        Assert.Equal(expected, TaskRules.MoveAction(member, from, to, mine ? member.UserId : Db.Members[1].UserId));
    }

    [Fact]
    public void Only_a_lead_moves_a_task_from_review_to_done()
    {
        Assert.Equal(TaskAction.Complete, TaskRules.MoveAction(Db.Lead, ProjectTaskStatus.InReview, ProjectTaskStatus.Done, Db.Members[0].UserId));
        Assert.Null(TaskRules.MoveAction(Db.Mentor, ProjectTaskStatus.Open, ProjectTaskStatus.Claimed, null));
    }
}
