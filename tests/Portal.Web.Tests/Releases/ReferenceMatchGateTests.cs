using Portal.Web.Features.Releases;
using Portal.Web.Features.Runs;

namespace Portal.Web.Tests.Releases;

public sealed class ReferenceMatchGateTests : IAsyncLifetime
{
    private readonly ReleaseTestBed _bed = new();
    public Task InitializeAsync() => _bed.InitializeAsync();
    public Task DisposeAsync() => _bed.DisposeAsync().AsTask();

    private async Task<GateResult> GateAsync(long releaseId) =>
        (await _bed.Releases.GetAsync(releaseId)).Gates.Single(g => g.Kind == GateKind.ReferenceMatch);

    [Fact]
    public async Task The_gate_fails_without_a_differential_run_of_the_release_commit()
    {
        var id = await _bed.CreateReleaseAsync();
        await _bed.AddDifferentialRunAsync(passed: true, commit: "other99");

        var gate = await GateAsync(id);

        Assert.False(gate.Passed);
        Assert.Equal("No finished differential run of commit abc1234.", gate.Summary);
        Assert.Contains(gate.Details, d => d.StartsWith("#", StringComparison.Ordinal) && d.Contains("other99"));
    }

    [Fact]
    public async Task The_gate_passes_on_a_differential_run_of_the_release_commit_with_every_tensor_within_tolerance()
    {
        var id = await _bed.CreateReleaseAsync();
        var run = await _bed.AddDifferentialRunAsync(passed: true);

        var gate = await GateAsync(id);

        Assert.True(gate.Passed, gate.Summary);
        Assert.Equal($"Differential run #{run} of abc1234: all 178 tensors within tolerance.", gate.Summary);
        Assert.Equal($"/runs/{run}/differential", gate.EvidenceLink);
    }

    [Fact]
    public async Task A_later_diverging_or_failed_run_of_the_same_commit_fails_the_gate()
    {
        var diverging = await _bed.CreateReleaseAsync("1.0");
        await _bed.AddDifferentialRunAsync(passed: true);
        await _bed.AddDifferentialRunAsync(passed: false);

        var gate = await GateAsync(diverging);

        Assert.False(gate.Passed);
        Assert.Contains("174 of 178 tensors out of tolerance", gate.Summary);

        await _bed.AddDifferentialRunAsync(passed: false, status: RunStatus.Failed);
        Assert.Contains("Failed", (await GateAsync(diverging)).Summary);
    }

    [Fact]
    public async Task A_new_differential_run_changes_the_evidence_fingerprint()
    {
        var id = await _bed.CreateReleaseAsync();
        var before = (await _bed.Releases.GetAsync(id)).Fingerprint;

        await _bed.AddDifferentialRunAsync(passed: true);

        Assert.NotEqual(before, (await _bed.Releases.GetAsync(id)).Fingerprint);
    }
}
