using Portal.Web.Features.Account;
using Portal.Web.Features.Projects;
using Portal.Web.Features.Tasks;
using Portal.Web.Infrastructure;

namespace Portal.Web.Tests.Tasks;

public sealed class TaskBoardTests : IAsyncLifetime
{
    private BoardDatabase _db = default!;
    private long _loss, _backbone, _data;

    public async Task InitializeAsync()
    {
        _db = await BoardDatabase.CreateAsync();
        _loss = await _db.AddTaskAsync("Checklist: loss functions (CIoU)", ModelComponent.Loss, description: "objectness and class terms");
        _backbone = await _db.AddTaskAsync("Checklist: CSPDarknet53 blocks", ModelComponent.Backbone);
        _data = await _db.AddTaskAsync("Checklist: mosaic augmentation values", ModelComponent.DataPipeline, description: "100% of the jitter");
        await _db.Claims.ClaimAsync(_db.Members[0], _backbone);
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private async Task<long[]> Ids(BoardFilter filter, Actor? actor = null) =>
        (await _db.Board.GetAsync(actor ?? _db.Members[0], _db.ProjectId, filter)).Rows.Select(r => r.Id).Order().ToArray();

    [Fact]
    public async Task The_board_lists_every_task_with_holder_names_counts_and_the_viewers_held_work()
    {
        var view = await _db.Board.GetAsync(_db.Members[0], _db.ProjectId, new BoardFilter());
        Assert.Equal(3, view.Rows.Count);
        Assert.Equal(_db.Members[0].DisplayName, view.Rows.Single(r => r.Id == _backbone).AssigneeName);
        Assert.Equal((1, 3, 2, 1), (view.HeldByMe, view.ClaimLimit, view.CountByStatus[ProjectTaskStatus.Open], view.CountByStatus[ProjectTaskStatus.Claimed]));
    }

    [Fact]
    public async Task Mine_shows_only_the_viewers_tasks() =>
        Assert.Equal([_backbone], await Ids(new BoardFilter(MineOnly: true)));

    [Fact]
    public async Task The_component_and_sub_team_filters_narrow_the_board()
    {
        Assert.Equal([_loss], await Ids(new BoardFilter(Component: ModelComponent.Loss)));
        Assert.Equal([_backbone], await Ids(new BoardFilter(SubTeam: SubTeam.Modeling)));
        Assert.Equal([_data], await Ids(new BoardFilter(SubTeam: SubTeam.DataPipeline)));
        Assert.Empty(await Ids(new BoardFilter(Stage: ReproductionStage.Release)));
        Assert.Equal([_backbone], await Ids(new BoardFilter(Status: ProjectTaskStatus.Claimed)));
    }

    [Fact]
    public async Task Search_matches_titles_and_descriptions_case_insensitively_and_treats_wildcards_literally()
    {
        Assert.Equal([_loss], await Ids(new BoardFilter(Search: "ciou")));
        Assert.Equal([_loss], await Ids(new BoardFilter(Search: "OBJECTNESS")));
        Assert.Equal([_data], await Ids(new BoardFilter(Search: "100%")));
        Assert.Empty(await Ids(new BoardFilter(Search: "_")));
    }

    [Fact]
    public async Task An_oversized_search_or_an_unknown_project_is_refused()
    {
        await Assert.ThrowsAsync<PortalError>(() => Ids(new BoardFilter(Search: new string('a', 201))));
        Assert.Equal(PortalErrorKind.NotFound, (await Assert.ThrowsAsync<PortalError>(() => _db.Board.GetAsync(_db.Lead, 999, new BoardFilter()))).Kind);
    }
}
