using Microsoft.EntityFrameworkCore;
using Portal.Web.Features.Releases;
using Portal.Web.Features.Runs;

namespace Portal.Web.Tests.Releases;

/// <summary>An approval covers every setting the gates read and the checkpoint the bundle would ship.</summary>
public sealed class FingerprintCoverageTests : IAsyncLifetime
{
    private readonly ReleaseTestBed _bed = new();
    public Task InitializeAsync() => _bed.InitializeAsync();
    public Task DisposeAsync() => _bed.DisposeAsync().AsTask();

    private async Task<string> SignOffSummaryAsync(long id) =>
        (await _bed.Releases.GetAsync(id)).Gates.Single(g => g.Kind == GateKind.SignOff).Summary;

    [Fact]
    public async Task Lowering_the_number_of_approvals_required_clears_the_approvals_already_given()
    {
        var id = await _bed.CreateReleaseAsync();
        await _bed.CompleteEvidenceAsync(id);
        await _bed.SignOff.ApproveAsync(_bed.Lead1, id);
        Assert.Equal("1 of 2 lead approvals.", await SignOffSummaryAsync(id));

        // One lead alone lowers the bar to one approval: their own earlier approval must not now suffice.
        await _bed.Releases.UpdateAsync(_bed.Lead1, id, ReleaseTestBed.Input() with { RequiredApprovals = 1 });

        var view = await _bed.Releases.GetAsync(id);
        Assert.Equal("0 of 1 lead approval.", view.Gates.Single(g => g.Kind == GateKind.SignOff).Summary);
        Assert.False(view.AllGatesPass);
        Assert.NotNull(Assert.Single(view.Decisions).ClearedAt);
    }

    [Fact]
    public async Task A_new_checkpoint_hash_of_a_chosen_run_clears_the_approvals()
    {
        var id = await _bed.CreateReleaseAsync();
        var run = await _bed.CompleteEvidenceAsync(id);
        await _bed.SignOff.ApproveAsync(_bed.Lead1, id);
        await _bed.SignOff.ApproveAsync(_bed.Lead2, id);
        var before = await _bed.Releases.GetAsync(id);
        Assert.True(before.AllGatesPass);

        // The stored checkpoint of an approved run is replaced by different bytes (same step, new hash).
        await using (var db = await _bed.Db.CreateDbContextAsync())
            await db.RunArtifacts.Where(a => a.RunId == run && a.Kind == "checkpoint")
                .ExecuteUpdateAsync(s => s.SetProperty(a => a.Sha256, new string('f', 64)));

        var after = await _bed.Releases.GetAsync(id);
        Assert.NotEqual(before.Fingerprint, after.Fingerprint);
        Assert.Equal("0 of 2 lead approvals.", after.Gates.Single(g => g.Kind == GateKind.SignOff).Summary);
    }
}
