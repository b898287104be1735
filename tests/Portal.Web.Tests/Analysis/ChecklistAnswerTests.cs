using Microsoft.EntityFrameworkCore;
using Portal.Web.Features.Account;
using Portal.Web.Features.Analysis;
using Portal.Web.Infrastructure;
using Portal.Web.Tests.Design;

namespace Portal.Web.Tests.Analysis;

/// <summary>Checklist answers keep their history, and a save never silently replaces another person's newer answer.</summary>
public sealed class ChecklistAnswerTests : IDisposable
{
    private readonly FeatureDatabase _db = new();
    private readonly ChecklistService _checklists;

    public ChecklistAnswerTests() => _checklists = _db.Get<ChecklistService>();

    public void Dispose() => _db.Dispose();

    private async Task<(long ProjectId, long ItemId, Actor Dana, Actor Ravi)> ItemAsync()
    {
        var projectId = await _db.AddProjectAsync();
        await _checklists.StartFromTemplateAsync(projectId);
        var dana = await _db.AddUserAsync("dana", Roles.Member);
        var ravi = await _db.AddUserAsync("ravi", Roles.Member);
        var item = (await _checklists.ListAsync(projectId)).Single(i => i.Question == "Loss functions");
        return (projectId, item.Id, dana, ravi);
    }

    private async Task<ChecklistItemView> ReadAsync(long projectId, long itemId) => (await _checklists.ListAsync(projectId)).Single(i => i.Id == itemId);

    [Fact]
    public async Task Every_answer_is_kept_in_the_items_history_with_who_wrote_it_and_when()
    {
        var (projectId, itemId, dana, ravi) = await ItemAsync();
        await _checklists.AnswerAsync(dana, itemId, "CIoU", "Section 3.2", 0);
        _db.Clock.Advance(TimeSpan.FromMinutes(5));
        await _checklists.AnswerAsync(ravi, itemId, "CIoU for boxes, BCE for objectness", "Section 3.2; src/yolo_layer.c:312", 1);
        _db.Clock.Advance(TimeSpan.FromMinutes(5));
        await _checklists.AnswerAsync(ravi, itemId, "", "", 2);

        var history = await _checklists.GetHistoryAsync(itemId);

        Assert.Equal([3, 2, 1], history.Select(r => r.Number));
        Assert.Equal(["ravi (test)", "ravi (test)", "dana (test)"], history.Select(r => r.AuthorName));
        Assert.Equal("CIoU", history[2].Answer);
        Assert.Equal("Section 3.2", history[2].Source);
        Assert.True(history[0].At > history[1].At && history[1].At > history[2].At);
        var item = await ReadAsync(projectId, itemId);
        Assert.Equal((ChecklistItemStatus.Open, 3, "ravi (test)"), (item.Status, item.AnswerRevision, item.AnsweredByName));
    }

    [Fact]
    public async Task A_save_over_someone_elses_newer_answer_is_refused_with_their_answer_and_nothing_is_lost()
    {
        var (projectId, itemId, dana, ravi) = await ItemAsync();
        await _checklists.AnswerAsync(dana, itemId, "CIoU", "Section 3.2", 0);
        // Ravi opened the item before Dana's answer (revision 0) and saves now.
        var error = await Assert.ThrowsAsync<PortalError>(() => _checklists.AnswerAsync(ravi, itemId, "GIoU", "yolo_layer.c:300", 0));

        Assert.Equal(PortalErrorKind.Conflict, error.Kind);
        Assert.Contains("dana (test) changed this answer after you opened it", error.Message);
        Assert.Contains("\"CIoU\"", error.Message);
        var item = await ReadAsync(projectId, itemId);
        Assert.Equal(("CIoU", "Section 3.2", 1, "dana (test)"), (item.Answer, item.Source, item.AnswerRevision, item.AnsweredByName));
        Assert.Single(await _checklists.GetHistoryAsync(itemId));
    }

    [Fact]
    public async Task A_confirmed_save_overwrites_the_newer_answer_and_both_stay_in_the_history()
    {
        var (projectId, itemId, dana, ravi) = await ItemAsync();
        await _checklists.AnswerAsync(dana, itemId, "CIoU", "Section 3.2", 0);

        await _checklists.AnswerAsync(ravi, itemId, "GIoU", "yolo_layer.c:300", 0, overwrite: true);

        var item = await ReadAsync(projectId, itemId);
        Assert.Equal(("GIoU", 2, "ravi (test)"), (item.Answer, item.AnswerRevision, item.AnsweredByName));
        Assert.Equal(["GIoU", "CIoU"], (await _checklists.GetHistoryAsync(itemId)).Select(r => r.Answer));
    }

    [Fact]
    public async Task A_save_over_the_answer_its_writer_saw_or_their_own_newer_one_needs_no_confirmation()
    {
        var (projectId, itemId, dana, ravi) = await ItemAsync();
        await _checklists.AnswerAsync(dana, itemId, "CIoU", "Section 3.2", 0);
        await _checklists.AnswerAsync(ravi, itemId, "CIoU for boxes", "Section 3.2", 1);
        // Ravi's second tab still shows revision 1, but the newer answer is his own.
        await _checklists.AnswerAsync(ravi, itemId, "CIoU for boxes, BCE for classes", "Section 3.2", 1);

        Assert.Equal(3, (await ReadAsync(projectId, itemId)).AnswerRevision);
        Assert.Equal(3, await _db.QueryAsync(db => db.ChecklistAnswerRevisions.CountAsync(r => r.ItemId == itemId)));
    }
}
