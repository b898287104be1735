using Microsoft.EntityFrameworkCore;
using Portal.Web.Features.Account;
using Portal.Web.Features.Analysis;
using Portal.Web.Features.Projects;
using Portal.Web.Features.Tasks;
using Portal.Web.Infrastructure;
using Portal.Web.Tests.Design;

namespace Portal.Web.Tests.Analysis;

public sealed class AnalysisServiceTests : IDisposable
{
    private readonly FeatureDatabase _db = new();
    private readonly ChecklistService _checklists;
    private readonly AnalysisLogService _log;
    private readonly SpecificationService _specs;

    public AnalysisServiceTests()
    {
        _checklists = _db.Get<ChecklistService>();
        _log = _db.Get<AnalysisLogService>();
        _specs = _db.Get<SpecificationService>();
    }

    public void Dispose() => _db.Dispose();

    private async Task<long> ProjectFromTemplateAsync()
    {
        var projectId = await _db.AddProjectAsync();
        await _checklists.StartFromTemplateAsync(projectId);
        return projectId;
    }

    [Fact]
    public async Task A_new_project_starts_with_the_three_checklists_of_the_template_all_open()
    {
        var projectId = await ProjectFromTemplateAsync();
        await _checklists.StartFromTemplateAsync(projectId);

        var items = await _checklists.ListAsync(projectId);

        Assert.Equal(ChecklistTemplate.Items.Count, items.Count);
        Assert.Equal(4, items.Count(i => i.Section == ChecklistSection.General));
        Assert.Equal(6, items.Count(i => i.Section == ChecklistSection.ModelAndDesign));
        Assert.Equal(6, items.Count(i => i.Section == ChecklistSection.TrainingAndEvaluation));
        Assert.All(items, i => Assert.Equal(ChecklistItemStatus.Open, i.Status));
        Assert.Contains(items, i => i.Question.StartsWith("Pre-processing and augmentation"));
    }

    [Fact]
    public async Task An_answer_with_its_source_marks_the_item_answered_and_its_author_the_owner()
    {
        var projectId = await ProjectFromTemplateAsync();
        var member = await _db.AddUserAsync("member1", Roles.Member);
        var item = (await _checklists.ListAsync(projectId)).First(i => i.Question == "Loss functions");

        await _checklists.AnswerAsync(member, item.Id, "CIoU for boxes, BCE for objectness and classes", "Section 3.2; src/yolo_layer.c:312", item.AnswerRevision);

        var answered = (await _checklists.ListAsync(projectId)).Single(i => i.Id == item.Id);
        Assert.Equal(ChecklistItemStatus.Answered, answered.Status);
        Assert.Equal("Section 3.2; src/yolo_layer.c:312", answered.Source);
        Assert.Equal(member.UserId, answered.OwnerId);
    }

    [Fact]
    public async Task An_answer_without_a_source_is_refused_and_the_item_stays_open()
    {
        var projectId = await ProjectFromTemplateAsync();
        var member = await _db.AddUserAsync("member1", Roles.Member);
        var item = (await _checklists.ListAsync(projectId)).First();

        var error = await Assert.ThrowsAsync<PortalError>(() => _checklists.AnswerAsync(member, item.Id, "Real-time detection", " ", item.AnswerRevision));

        Assert.Contains("Say where the answer comes from", error.Message);
        var unchanged = (await _checklists.ListAsync(projectId)).Single(i => i.Id == item.Id);
        Assert.Equal((ChecklistItemStatus.Open, "", null), (unchanged.Status, unchanged.Answer, unchanged.OwnerId));
    }

    [Fact]
    public async Task An_item_becomes_an_open_task_on_the_board_once()
    {
        var projectId = await ProjectFromTemplateAsync();
        var member = await _db.AddUserAsync("member1", Roles.Member);
        var item = (await _checklists.ListAsync(projectId)).First(i => i.Question == "Custom layers");

        var taskId = await _checklists.MakeTaskAsync(member, item.Id, ModelComponent.Backbone);

        var task = await _db.QueryAsync(db => db.Tasks.SingleAsync(t => t.Id == taskId));
        Assert.Equal((projectId, ProjectTaskStatus.Open, ReproductionStage.PaperAnalysis, ModelComponent.Backbone, (string?)null),
            (task.ProjectId, task.Status, task.Stage, task.Component, task.AssigneeId));
        Assert.Contains("Custom layers", task.Title);
        Assert.Equal(taskId, (await _checklists.ListAsync(projectId)).Single(i => i.Id == item.Id).TaskId);

        var again = await Assert.ThrowsAsync<PortalError>(() => _checklists.MakeTaskAsync(member, item.Id, ModelComponent.Backbone));
        Assert.Equal(PortalErrorKind.Conflict, again.Kind);
        Assert.Equal(1, await _db.QueryAsync(db => db.Tasks.CountAsync()));
    }

    [Fact]
    public async Task Members_take_free_items_but_only_a_lead_assigns_items_to_others()
    {
        var projectId = await ProjectFromTemplateAsync();
        var member = await _db.AddUserAsync("member1", Roles.Member);
        var other = await _db.AddUserAsync("member2", Roles.Member);
        var lead = await _db.AddUserAsync("lead.data", Roles.Lead);
        var item = (await _checklists.ListAsync(projectId)).First();

        await _checklists.SetOwnerAsync(member, item.Id, member.UserId);
        var error = await Assert.ThrowsAsync<PortalError>(() => _checklists.SetOwnerAsync(other, item.Id, other.UserId));
        Assert.Equal(PortalErrorKind.Forbidden, error.Kind);
        Assert.Equal(member.UserId, (await _checklists.ListAsync(projectId)).First().OwnerId);

        await _checklists.SetOwnerAsync(lead, item.Id, other.UserId);
        Assert.Equal(other.UserId, (await _checklists.ListAsync(projectId)).First().OwnerId);
        var inbox = new Portal.Web.Features.Inbox.InboxService(_db, _db.Live, _db.Clock);
        Assert.Equal(1, (await inbox.CountsAsync(other)).Of(Portal.Web.Features.Inbox.NotificationKind.TaskAssigned));
        Assert.Equal(0, (await inbox.CountsAsync(member)).Unread);
    }

    [Fact]
    public async Task A_discrepancy_is_decided_by_a_lead_with_a_reason()
    {
        var projectId = await _db.AddProjectAsync();
        var member = await _db.AddUserAsync("member7", Roles.Member);
        var lead = await _db.AddUserAsync("lead.data", Roles.Lead);
        var id = await _log.RaiseDiscrepancyAsync(member, projectId, "Mosaic probability", "Always", "Section 3.3", "p = 0.5", "src/data.c:1187");

        var forbidden = await Assert.ThrowsAsync<PortalError>(() => _log.DecideAsync(member, id, "Follow the code", "Weights were trained with it"));
        Assert.Equal(PortalErrorKind.Forbidden, forbidden.Kind);
        var noReason = await Assert.ThrowsAsync<PortalError>(() => _log.DecideAsync(lead, id, "Follow the code", ""));
        Assert.Equal(PortalErrorKind.Validation, noReason.Kind);
        Assert.Equal(DiscrepancyStatus.Open, (await _log.DiscrepanciesAsync(projectId)).Single().Status);

        await _log.DecideAsync(lead, id, "Follow the code", "Weights were trained with it");
        var decided = (await _log.DiscrepanciesAsync(projectId)).Single();
        Assert.Equal((DiscrepancyStatus.Decided, "Follow the code", "lead.data (test)"), (decided.Status, decided.Decision, decided.DecidedBy));
    }

    [Fact]
    public async Task A_question_to_the_authors_goes_from_asked_to_sent_to_answered_in_order()
    {
        var projectId = await _db.AddProjectAsync();
        var member = await _db.AddUserAsync("member2", Roles.Member);
        var id = await _log.AskAsync(member, projectId, "Step or cosine schedule?");

        var early = await Assert.ThrowsAsync<PortalError>(() => _log.RecordAnswerAsync(member, id, "Cosine"));
        Assert.Equal(PortalErrorKind.Conflict, early.Kind);
        await _log.MarkSentAsync(member, id);
        await _log.RecordAnswerAsync(member, id, "Cosine");

        var q = (await _log.QuestionsAsync(projectId)).Single();
        Assert.Equal((AuthorQuestionStatus.Answered, "Cosine"), (q.Status, q.Answer));
        Assert.NotNull(q.SentAt);
    }

    [Theory]
    [InlineData("0.0005", "0.0005", "5e-4", false)]
    [InlineData("0.9", "0.949", "0.949", true)]
    [InlineData("[0.5, 1.5]", "[0.5,1.5]", "", false)]
    [InlineData("SGD", "sgd", "Adam", true)]
    [InlineData("64", "", "", false)]
    public void Hyperparameter_values_mismatch_only_when_two_given_values_differ(string paper, string reference, string ours, bool mismatch) =>
        Assert.Equal(mismatch, HyperparameterRules.IsMismatch(paper, reference, ours));

    [Fact]
    public async Task The_hyperparameter_table_marks_the_mismatching_row_and_updates_rows_by_name()
    {
        var projectId = await _db.AddProjectAsync();
        var member = await _db.AddUserAsync("member2", Roles.Member);
        await _specs.SetHyperparameterAsync(member, projectId, "momentum", "0.9", "Section 4.2", "0.949", "cfg/yolov4.cfg:8", "0.949");
        await _specs.SetHyperparameterAsync(member, projectId, "batch size", "64", "Section 4.1", "64", "cfg/yolov4.cfg:6", "64");
        await _specs.SetHyperparameterAsync(member, projectId, "batch size", "64", "Section 4.1", "64", "cfg/yolov4.cfg:6", "32");

        var rows = await _specs.HyperparametersAsync(projectId);
        Assert.Equal(2, rows.Count);
        Assert.All(rows, r => Assert.True(r.IsMismatch));
        Assert.Equal("32", rows.Single(r => r.Name == "batch size").OurValue);

        var noSource = await Assert.ThrowsAsync<PortalError>(() => _specs.SetHyperparameterAsync(member, projectId, "lr", "0.01", "", "", "", ""));
        Assert.Contains("where in the paper", noSource.Message);
        Assert.Equal(2, (await _specs.HyperparametersAsync(projectId)).Count);
    }

    [Fact]
    public async Task A_component_contract_lists_its_inputs_and_outputs_and_refuses_duplicate_names()
    {
        var projectId = await _db.AddProjectAsync();
        var member = await _db.AddUserAsync("member5", Roles.Member);
        await _specs.AddContractFieldAsync(member, projectId, ModelComponent.Backbone, ContractDirection.Output, "c3", "[B, 256, 64, 64]", "float32", "stride 8");
        await _specs.AddContractFieldAsync(member, projectId, ModelComponent.Backbone, ContractDirection.Input, "images", "[B, 3, 512, 512]", "float32", "RGB in [0, 1]");
        await _specs.AddContractFieldAsync(member, projectId, ModelComponent.Head, ContractDirection.Output, "raw", "[B, 3, S, S, 85]", "float32", "");

        var backbone = await _specs.ContractsAsync(projectId, ModelComponent.Backbone);
        Assert.Equal(["images", "c3"], backbone.Select(f => f.Name));
        var duplicate = await Assert.ThrowsAsync<PortalError>(() =>
            _specs.AddContractFieldAsync(member, projectId, ModelComponent.Backbone, ContractDirection.Output, "c3", "[B, 1]", "float32", ""));
        Assert.Equal(PortalErrorKind.Conflict, duplicate.Kind);
        Assert.Equal(3, (await _specs.ContractsAsync(projectId)).Count);
    }
}
