using Portal.Web.Features.Releases;
using Xunit.Abstractions;

namespace Portal.Web.Tests.Releases;

/// <summary>How many SQL commands the release list and a lead's approval send, counted at EF Core's command interceptor.</summary>
public sealed class ReleaseQueryCountTests : IAsyncLifetime
{
    private readonly ReleaseTestBed _bed = new();
    private readonly ITestOutputHelper _output;
    public ReleaseQueryCountTests(ITestOutputHelper output) => _output = output;
    public Task InitializeAsync() => _bed.InitializeAsync();
    public Task DisposeAsync() => _bed.DisposeAsync().AsTask();

    [Fact]
    public async Task The_release_list_sends_the_same_few_queries_for_ten_releases_as_for_one()
    {
        var first = await _bed.CreateReleaseAsync("1.0");
        await _bed.CompleteEvidenceAsync(first);
        var one = await _bed.Sql.CountAsync(() => _bed.Releases.ListAsync(_bed.ProjectId));
        for (var i = 2; i <= 10; i++)
        {
            var id = await _bed.CreateReleaseAsync($"{i}.0");
            await _bed.Releases.ChooseRunsAsync(_bed.Lead1, id, (await _bed.Releases.GetAsync(first)).Release.Runs.Select(r => r.RunId).ToList());
        }

        IReadOnlyList<ReleaseSummary> list = [];
        var ten = await _bed.Sql.CountAsync(async () => list = await _bed.Releases.ListAsync(_bed.ProjectId));

        _output.WriteLine($"release list: {one.Count} SQL commands for 1 release, {ten.Count} for 10");
        Assert.Equal(10, list.Count);
        Assert.Equal(one.Count, ten.Count);
        // One query per kind of evidence (release rows, runs, approvals, project, tasks, designs, chosen runs,
        // checkpoints, differential runs, names), whatever the number of releases.
        Assert.InRange(ten.Count, 1, 14);
    }

    [Fact]
    public async Task A_leads_approval_sends_a_fixed_small_number_of_commands()
    {
        var id = await _bed.CreateReleaseAsync();
        await _bed.CompleteEvidenceAsync(id);

        var approve = await _bed.Sql.CountAsync(() => _bed.SignOff.ApproveAsync(_bed.Lead1, id));
        var reload = await _bed.Sql.CountAsync(() => _bed.Releases.GetAsync(id));

        _output.WriteLine($"approve: {approve.Count} SQL commands; the page's reload after it: {reload.Count}");
        foreach (var command in approve) _output.WriteLine(command.Split('\n')[0]);
        // The approve path: the actor re-read (2), the evidence read (about 13), the approval, audit and row version.
        Assert.InRange(approve.Count, 1, 20);
        Assert.InRange(reload.Count, 1, 18);
    }
}
