using System.Security.Claims;
using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;
using Portal.Web.Data;
using Portal.Web.Features.Projects;
using Portal.Web.Infrastructure;
using Portal.Web.Tests.Tasks;

namespace Portal.Web.Tests.Projects;

public sealed class StagePanelTests : BoardComponentContext
{
    private async Task<IRenderedComponent<StagePanel>> RenderAsync(Actor actor)
    {
        ActAs(actor);
        Render<MudPopoverProvider>();
        Render<MudSnackbarProvider>();
        var project = await Db.Get<ProjectService>().GetAsync(Db.ProjectId);
        return Render<StagePanel>(p => p.Add(s => s.Project, project));
    }

    private Task<ReproductionStage> StageAsync() => Db.QueryAsync(db => db.Projects.Where(p => p.Id == Db.ProjectId).Select(p => p.Stage).SingleAsync());

    [Fact]
    public async Task A_member_sees_the_history_but_no_stage_controls()
    {
        var panel = await RenderAsync(Db.Members[0]);
        panel.WaitForElement("[data-testid=stage-history]");
        Assert.Empty(panel.FindAll("[data-testid=stage-advance]"));
        Assert.Empty(panel.FindAll("[data-testid=stage-send-back]"));
    }

    [Fact]
    public async Task A_lead_advances_the_project_from_the_panel()
    {
        var panel = await RenderAsync(Db.Lead);
        Assert.Contains("2 · Design", panel.Find("[data-testid=stage-advance]").TextContent);

        await panel.Find("[data-testid=stage-advance]").ClickAsync(new());

        Assert.Equal(ReproductionStage.Design, await StageAsync());
    }

    [Fact]
    public async Task Sending_back_without_a_reason_is_refused_with_a_message_and_the_stage_stays()
    {
        var panel = await RenderAsync(Db.Lead);

        await panel.Find("[data-testid=stage-send-back]").ClickAsync(new());

        Assert.Equal(ReproductionStage.PaperAnalysis, await StageAsync());
        var snackbar = Services.GetRequiredService<ISnackbar>();
        Assert.Contains(snackbar.ShownSnackbars, s => s.Message != null && s.Message.Contains("Say why the project goes back"));
    }

    [Fact]
    public async Task The_history_shows_who_sent_the_project_back_and_why()
    {
        await Db.Projects.SendBackAsync(Db.Lead, Db.ProjectId, 0, ReproductionStage.ModelSelection, "Picked the wrong input size");

        var panel = await RenderAsync(Db.Members[0]);

        panel.WaitForAssertion(() =>
        {
            var history = panel.Find("[data-testid=stage-history]").TextContent;
            Assert.Contains("Picked the wrong input size", history);
            Assert.Contains(Db.Lead.DisplayName, history);
        });
    }
}
