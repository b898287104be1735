using System.Security.Claims;
using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;
using Portal.Web.Data;
using Portal.Web.Features.Account;
using Portal.Web.Features.Projects;
using Portal.Web.Features.Tasks;
using Portal.Web.Infrastructure;

namespace Portal.Web.Tests.Tasks;

/// <summary>The board component over the real services and a real SQLite file, signed in as each role.</summary>
public sealed class BoardComponentTests : BoardComponentContext
{
    private IRenderedComponent<Board> RenderBoard(Actor actor)
    {
        ActAs(actor);
        Render<MudSnackbarProvider>();
        Services.GetRequiredService<NavigationManager>().NavigateTo($"projects/{Db.ProjectId}/board?view=table");
        return Render<Board>(p => p.Add(b => b.ProjectId, Db.ProjectId));
    }

    private static string Buttons(IRenderedComponent<TaskActions> actions) =>
        string.Join(",", actions.FindAll("button").Select(b => b.GetAttribute("data-testid")!.Replace("task-", "")));

    public static TheoryData<string, ProjectTaskStatus, string, string> ControlCases() => new()
    {
        { "member", ProjectTaskStatus.Open, "nobody", "claim" },
        { "member", ProjectTaskStatus.Claimed, "self", "submitforreview,unclaim" },
        { "member", ProjectTaskStatus.Claimed, "other", "" },
        { "member", ProjectTaskStatus.InReview, "self", "unclaim" },
        { "member", ProjectTaskStatus.Done, "self", "" },
        { "lead", ProjectTaskStatus.Open, "nobody", "claim" },
        { "lead", ProjectTaskStatus.Claimed, "other", "submitforreview,unclaim" },
        { "lead", ProjectTaskStatus.InReview, "other", "complete,unclaim" },
        { "mentor", ProjectTaskStatus.Open, "nobody", "" },
        { "mentor", ProjectTaskStatus.InReview, "other", "" },
        { "admin", ProjectTaskStatus.Open, "nobody", "" },
    };

    [Theory]
    [MemberData(nameof(ControlCases))]
    public void The_claim_controls_offer_each_role_only_what_it_may_do(string role, ProjectTaskStatus status, string holder, string expected)
    {
        var actor = role switch { "member" => Db.Members[0], "lead" => Db.Lead, "mentor" => Db.Mentor, _ => Db.Admin };
        var assignee = holder switch { "self" => actor.UserId, "other" => Db.Members[1].UserId, _ => null };

        var actions = Render<TaskActions>(p => p.Add(a => a.Actor, actor).Add(a => a.Status, status).Add(a => a.AssigneeId, assignee));

        Assert.Equal(expected, Buttons(actions));
    }

    [Fact]
    public async Task A_member_claims_from_the_board_and_the_row_shows_them_as_holder()
    {
        var id = await Db.AddTaskAsync("Checklist: NMS thresholds");
        var board = RenderBoard(Db.Members[0]);
        board.WaitForElement($"tr[data-task-id='{id}'] [data-testid=task-claim]");

        await board.Find($"tr[data-task-id='{id}'] [data-testid=task-claim]").ClickAsync(new());

        board.WaitForAssertion(() =>
        {
            Assert.Equal("Claimed", board.Find($"tr[data-task-id='{id}'] [data-testid=task-status]").TextContent);
            Assert.Equal(Db.Members[0].DisplayName, board.Find($"tr[data-task-id='{id}'] [data-testid=task-holder]").TextContent);
        });
        Assert.Equal(Db.Members[0].UserId, (await Db.TaskAsync(id)).AssigneeId);
        Assert.Contains(Services.GetRequiredService<ISnackbar>().ShownSnackbars, s => s.Message == "Claimed “Checklist: NMS thresholds”: it is yours.");
    }

    [Fact]
    public async Task The_board_shows_a_claim_made_elsewhere_without_being_reloaded()
    {
        var id = await Db.AddTaskAsync("Checklist: anchors per level");
        var board = RenderBoard(Db.Members[0]);
        board.WaitForElement($"tr[data-task-id='{id}'][data-status=Open]");

        await Db.Claims.ClaimAsync(Db.Members[1], id);

        board.WaitForAssertion(() => Assert.Equal(Db.Members[1].DisplayName, board.Find($"tr[data-task-id='{id}'] [data-testid=task-holder]").TextContent),
            TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task A_member_at_the_limit_sees_why_and_the_claim_buttons_are_disabled_with_the_reason()
    {
        var member = Db.Members[0];
        for (var i = 0; i < 3; i++) await Db.Claims.ClaimAsync(member, await Db.AddTaskAsync($"held {i}"));
        var id = await Db.AddTaskAsync("one more");
        var board = RenderBoard(member);

        board.WaitForAssertion(() => Assert.Contains("limit of 3", board.Find("[data-testid=claim-limit]").TextContent));
        Assert.True(board.Find($"tr[data-task-id='{id}'] [data-testid=task-claim]").HasAttribute("disabled"));
        Assert.Equal("You hold 3 of this project's limit of 3 claimed tasks: finish or unclaim one before claiming another.",
            board.Find($"tr[data-task-id='{id}'] [data-testid=claim-blocked]").GetAttribute("title"));
        Assert.Equal(ProjectTaskStatus.Open, (await Db.TaskAsync(id)).Status);
    }

    [Fact]
    public async Task Only_a_lead_sees_the_controls_to_create_edit_and_assign()
    {
        var id = await Db.AddTaskAsync();
        var memberBoard = RenderBoard(Db.Members[0]);
        memberBoard.WaitForElement($"tr[data-task-id='{id}'] a");
        Assert.Empty(memberBoard.FindAll("[data-testid=task-new]"));
        await memberBoard.Find($"tr[data-task-id='{id}'] a").ClickAsync(new());
        memberBoard.WaitForElement("[data-testid=task-panel-title]");
        Assert.Empty(memberBoard.FindAll("[data-testid=assign]"));
        Assert.Empty(memberBoard.FindAll("[data-testid=task-edit]"));
    }

    [Fact]
    public async Task A_lead_opens_a_task_and_sees_its_sanitized_description_and_the_assign_control()
    {
        var id = await Db.AddTaskAsync(description: "See **Table 8**. <script>alert(1)</script>");
        var board = RenderBoard(Db.Lead);
        board.WaitForElement("[data-testid=task-new]");
        board.WaitForElement($"tr[data-task-id='{id}'] a"); // the rows may come after the toolbar
        await board.Find($"tr[data-task-id='{id}'] a").ClickAsync(new());

        board.WaitForAssertion(() =>
        {
            var html = board.Find("[data-testid=task-description-html]").InnerHtml;
            Assert.Contains("<strong>Table 8</strong>", html);
            Assert.DoesNotContain("<script", html);
        });
        Assert.NotEmpty(board.FindAll("[data-testid=assign]"));
        Assert.NotEmpty(board.FindAll("[data-testid=task-edit]"));
    }

    [Fact]
    public async Task The_search_box_filters_the_rows()
    {
        await Db.AddTaskAsync("Checklist: CIoU loss terms", ModelComponent.Loss);
        await Db.AddTaskAsync("Checklist: mosaic augmentation", ModelComponent.DataPipeline);
        var board = RenderBoard(Db.Members[0]);
        board.WaitForAssertion(() => Assert.Equal(2, board.FindAll("[data-testid=task-row]").Count));

        await board.InvokeAsync(() => board.FindComponent<MudTextField<string>>().Instance.ValueChanged.InvokeAsync("mosaic"));

        board.WaitForAssertion(() => Assert.Equal("Checklist: mosaic augmentation", Assert.Single(board.FindAll("[data-testid=task-row] td.title")).TextContent));
    }

    [Fact]
    public async Task A_new_task_without_a_title_is_refused_inside_the_task_form_not_in_a_snackbar()
    {
        var before = await Db.QueryAsync(db => db.Tasks.CountAsync());
        var board = RenderBoard(Db.Lead);
        await board.WaitForElement("[data-testid=task-new]").ClickAsync(new());
        await board.WaitForElement("[data-testid=task-save]").ClickAsync(new());

        board.WaitForAssertion(() => Assert.Equal("A task needs a title.", board.Find("[data-testid=task-editor] [data-testid=form-error]").TextContent.Trim()));
        Assert.Empty(Services.GetRequiredService<ISnackbar>().ShownSnackbars);
        Assert.Equal(before, await Db.QueryAsync(db => db.Tasks.CountAsync()));
    }
}
