using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using Portal.Web.Features.Account;
using Portal.Web.Features.Analysis;
using Portal.Web.Features.Tasks;
using Portal.Web.Tests.Design;

namespace Portal.Web.Tests.Analysis;

public sealed class AnalysisComponentTests : FeatureComponentTest
{
    [Fact]
    public void The_hyperparameter_table_marks_only_the_row_whose_values_disagree()
    {
        IReadOnlyList<HyperparameterView> rows =
        [
            new(1, "momentum", "0.9", "Section 4.2", "0.949", "cfg/yolov4.cfg:8", "0.949", true),
            new(2, "batch size", "64", "Section 4.1", "64", "cfg/yolov4.cfg:6", "64", false),
        ];
        var table = Render<HyperparameterTable>(p => p.Add(c => c.Rows, rows));

        var marked = table.FindAll("tr.hp-mismatch");
        Assert.Single(marked);
        Assert.Contains("momentum", marked[0].TextContent);
        Assert.Contains("mismatch", marked[0].TextContent);
        Assert.DoesNotContain("mismatch", table.Find("[data-testid=hp-row]").TextContent);
    }

    [Fact]
    public async Task The_contract_table_shows_one_components_inputs_and_outputs_and_follows_changes()
    {
        var projectId = await Db.AddProjectAsync();
        var member = await Db.AddUserAsync("member5", Roles.Member);
        var specs = Db.Get<SpecificationService>();
        await specs.AddContractFieldAsync(member, projectId, ModelComponent.Neck, ContractDirection.Input, "c5", "[B, 1024, 16, 16]", "float32", "stride 32");
        await specs.AddContractFieldAsync(member, projectId, ModelComponent.Head, ContractDirection.Output, "raw", "[B, 3, S, S, 85]", "float32", "");

        var table = Render<ContractTable>(p => p.Add(c => c.ProjectId, projectId).Add(c => c.Component, ModelComponent.Neck));
        table.WaitForAssertion(() => Assert.Single(table.FindAll("[data-testid=contract] tbody tr")));
        Assert.DoesNotContain("raw", table.Markup);

        await specs.AddContractFieldAsync(member, projectId, ModelComponent.Neck, ContractDirection.Output, "p5", "[B, 512, 16, 16]", "float32", "");

        table.WaitForAssertion(() => Assert.Equal(2, table.FindAll("[data-testid=contract] tbody tr").Count));
    }

    [Fact]
    public async Task A_discrepancy_recorded_without_a_topic_is_refused_inside_the_form_not_in_a_snackbar()
    {
        var projectId = await Db.AddProjectAsync();
        ActAs(await Db.AddUserAsync("member6", Roles.Member));
        var panel = Render<DiscrepancyPanel>(p => p.Add(c => c.ProjectId, projectId));
        panel.WaitForElement("[data-testid=discrepancy-record]").Click();

        panel.WaitForAssertion(() => Assert.Equal("Name what the discrepancy is about.", panel.Find("[data-testid=form-error]").TextContent.Trim()));
        Assert.Empty(Services.GetRequiredService<ISnackbar>().ShownSnackbars);
        Assert.Equal(0, await Db.QueryAsync(db => db.Discrepancies.CountAsync()));
    }

    [Fact]
    public async Task A_hyperparameter_without_any_value_is_refused_inside_the_form_not_in_a_snackbar()
    {
        var projectId = await Db.AddProjectAsync();
        ActAs(await Db.AddUserAsync("member7", Roles.Member));
        var panel = Render<HyperparameterPanel>(p => p.Add(c => c.ProjectId, projectId));
        panel.WaitForElement("[data-testid=hyperparameter-save]").Click();

        panel.WaitForAssertion(() => Assert.Equal("Name the hyperparameter.", panel.Find("[data-testid=form-error]").TextContent.Trim()));
        Assert.Empty(Services.GetRequiredService<ISnackbar>().ShownSnackbars);
    }
}

public sealed class ChecklistPanelTests : FeatureComponentTest
{
    [Fact]
    public async Task A_member_answers_an_item_with_its_source_and_turns_another_into_a_board_task()
    {
        var projectId = await Db.AddProjectAsync();
        await Db.Get<ChecklistService>().StartFromTemplateAsync(projectId);
        var member = await Db.AddUserAsync("member3", Roles.Member);
        ActAs(member);
        var panel = Render<ChecklistPanel>(p => p.Add(c => c.ProjectId, projectId));
        panel.WaitForAssertion(() => Assert.Contains("0 of 16 items answered", panel.Find("[data-testid=checklist-progress]").TextContent));

        // Find and click in one dispatch: a live update may render the panel again in between.
        await panel.InvokeAsync(() => panel.FindAll("[data-testid=checklist-item]")[0].QuerySelectorAll("button").First(b => b.TextContent.Trim() == "Answer").Click());
        panel.WaitForElement("textarea[data-testid=answer], [data-testid=answer] textarea").Change("Real-time detection on one GPU");
        panel.Find("input[data-testid=source], [data-testid=source] input").Change("Abstract");
        await panel.InvokeAsync(() => panel.Find("button[data-testid=save-answer]").Click());
        panel.WaitForAssertion(() => Assert.Contains("1 of 16 items answered", panel.Find("[data-testid=checklist-progress]").TextContent));

        await panel.InvokeAsync(() => panel.FindAll("button[data-testid=make-task]")[0].Click());
        panel.WaitForAssertion(() => Assert.Contains("task #", panel.Markup));
        var task = await Db.QueryAsync(db => db.Tasks.SingleAsync());
        Assert.Equal(ProjectTaskStatus.Open, task.Status);
        Assert.Contains("Code availability", task.Title);
    }
}
