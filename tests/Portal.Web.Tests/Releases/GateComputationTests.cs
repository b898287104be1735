using Portal.Web.Features.Projects;
using Portal.Web.Features.Releases;
using Portal.Web.Features.Runs;
using Portal.Web.Features.Tasks;

namespace Portal.Web.Tests.Releases;

public sealed class GateComputationTests : IAsyncLifetime
{
    private readonly ReleaseTestBed _bed = new();
    public Task InitializeAsync() => _bed.InitializeAsync();
    public Task DisposeAsync() => _bed.DisposeAsync().AsTask();

    private async Task<GateResult> GateAsync(long releaseId, GateKind kind) =>
        (await _bed.Releases.GetAsync(releaseId)).Gates.Single(g => g.Kind == kind);

    [Fact]
    public async Task Complete_evidence_passes_every_gate_but_the_sign_off()
    {
        var id = await _bed.CreateReleaseAsync();
        await _bed.CompleteEvidenceAsync(id);

        var view = await _bed.Releases.GetAsync(id);

        Assert.All(view.Gates.Where(g => g.Kind != GateKind.SignOff), g => Assert.True(g.Passed, $"{g.Title}: {g.Summary}"));
        var signOff = view.Gates.Single(g => g.Kind == GateKind.SignOff);
        Assert.False(signOff.Passed);
        Assert.Equal("0 of 2 lead approvals.", signOff.Summary);
        Assert.Equal(9, view.Gates.Count);
    }

    [Fact]
    public async Task A_mean_inside_the_tolerance_passes_and_one_outside_fails_with_its_gap()
    {
        var inside = await _bed.CreateReleaseAsync("in");
        var runsIn = new[] { await _bed.AddRunAsync(1, "member-1", 39.6, 59.7), await _bed.AddRunAsync(2, "member-2", 39.8, 59.9) };
        await _bed.Releases.ChooseRunsAsync(_bed.Lead1, inside, runsIn);
        var outside = await _bed.CreateReleaseAsync("out");
        var runsOut = new[] { await _bed.AddRunAsync(3, "member-1", 39.0, 59.7), await _bed.AddRunAsync(4, "member-2", 39.2, 59.9) };
        await _bed.Releases.ChooseRunsAsync(_bed.Lead1, outside, runsOut);

        var passing = await GateAsync(inside, GateKind.Reproducibility);
        var failing = await GateAsync(outside, GateKind.Reproducibility);

        Assert.True(passing.Passed, passing.Summary);
        Assert.Contains(passing.Details, d => d.StartsWith("AP on COCO test-dev (paper 40.0): mean 39.7 over 2 runs, gap -0.3, within ±0.5."));
        Assert.False(failing.Passed);
        Assert.Equal("1 of 2 claims not reproduced within ±0.5.", failing.Summary);
        Assert.Contains(failing.Details, d => d.Contains("mean 39.1 over 2 runs, gap -0.9, outside ±0.5."));
    }

    [Fact]
    public async Task A_release_tolerance_overrides_the_projects()
    {
        var id = await _bed.Releases.CreateAsync(_bed.Lead1, _bed.ProjectId, ReleaseTestBed.Input(tolerance: 1.0));
        await _bed.Releases.ChooseRunsAsync(_bed.Lead1, id, [await _bed.AddRunAsync(1, "member-1", 39.1, 59.3)]);

        Assert.True((await GateAsync(id, GateKind.Reproducibility)).Passed);
    }

    [Fact]
    public async Task Runs_on_another_split_are_flagged_and_not_counted()
    {
        var id = await _bed.CreateReleaseAsync();
        var runs = new[]
        {
            await _bed.AddRunAsync(1, "member-1", 40.0, 60.0, split: "val"),
            await _bed.AddRunAsync(2, "member-1", 40.1, 60.1, split: "val"),
            await _bed.AddRunAsync(3, "member-2", 40.2, 60.2, split: "val"),
        };
        await _bed.Releases.ChooseRunsAsync(_bed.Lead1, id, runs);

        var view = await _bed.Releases.GetAsync(id);
        var gate = view.Gates.Single(g => g.Kind == GateKind.Reproducibility);

        Assert.False(gate.Passed);
        Assert.Contains(gate.Details, d => d == "AP on COCO test-dev (paper 40.0): no chosen succeeded run on test-dev.");
        Assert.Contains(gate.Details, d => d == "AP: 3 runs on val (mean 40.1) not counted: the paper's number is on test-dev.");
        Assert.False(view.Gates.Single(g => g.Kind == GateKind.Seeds).Passed);
        Assert.All(view.Claims, c => Assert.Empty(c.Counted));
    }

    [Fact]
    public async Task Too_few_seeds_fail_the_seeds_gate_which_still_shows_mean_and_std()
    {
        var id = await _bed.CreateReleaseAsync();
        // Two runs share seed 1: only two different seeds.
        var runs = new[]
        {
            await _bed.AddRunAsync(1, "member-1", 39.8, 59.8), await _bed.AddRunAsync(1, "member-2", 40.0, 60.0),
            await _bed.AddRunAsync(2, "member-2", 40.2, 60.2),
        };
        await _bed.Releases.ChooseRunsAsync(_bed.Lead1, id, runs);

        var gate = await GateAsync(id, GateKind.Seeds);

        Assert.False(gate.Passed);
        Assert.Equal("2 qualifying runs with different seeds; 3 required.", gate.Summary);
        Assert.Contains("AP: mean 40.0, std 0.2 over seeds 1, 2.", gate.Details);
    }

    [Fact]
    public async Task Runs_started_by_one_person_only_fail_the_independent_rerun_gate()
    {
        var id = await _bed.CreateReleaseAsync();
        var runs = new[] { await _bed.AddRunAsync(1, "member-1", 40, 60), await _bed.AddRunAsync(2, "member-1", 40, 60), await _bed.AddRunAsync(3, "member-1", 40, 60) };
        await _bed.Releases.ChooseRunsAsync(_bed.Lead1, id, runs);
        // A failed run by someone else does not count as a re-run.
        await _bed.Releases.ChooseRunsAsync(_bed.Lead1, id, [.. runs, await _bed.AddRunAsync(4, "member-2", 40, 60, status: RunStatus.Failed)]);

        var view = await _bed.Releases.GetAsync(id);
        var gate = view.Gates.Single(g => g.Kind == GateKind.IndependentRerun);

        Assert.False(gate.Passed);
        Assert.Equal("Every qualifying run was started by Max Member; another member must re-run it.", gate.Summary);
        Assert.True(view.Gates.Single(g => g.Kind == GateKind.Seeds).Passed);
        Assert.Contains(view.Gates.Single(g => g.Kind == GateKind.Reproducibility).Details, d => d.EndsWith("is failed, not counted."));
    }

    [Fact]
    public async Task An_open_task_in_a_required_stage_fails_the_stages_gate_but_one_in_another_stage_does_not()
    {
        var id = await _bed.CreateReleaseAsync();
        await _bed.AddTaskAsync(ReproductionStage.Portability, ModelComponent.Backbone, ProjectTaskStatus.Open);
        Assert.True((await GateAsync(id, GateKind.Stages)).Passed);

        var task = await _bed.AddTaskAsync(ReproductionStage.Training, ModelComponent.Loss, ProjectTaskStatus.Claimed);
        var gate = await GateAsync(id, GateKind.Stages);
        Assert.False(gate.Passed);
        Assert.Contains(gate.Details, d => d.StartsWith($"#{task} Loss work") && d.EndsWith("claimed"));

        await _bed.SetTaskStatusAsync(task, ProjectTaskStatus.Done);
        Assert.True((await GateAsync(id, GateKind.Stages)).Passed);
    }

    [Fact]
    public async Task A_design_approved_only_at_an_older_version_fails_the_design_gate()
    {
        var id = await _bed.CreateReleaseAsync();
        await _bed.AddDesignAsync(ModelComponent.Backbone);
        await _bed.AddDesignAsync(ModelComponent.Head, versions: 2, approvedAt: 1);

        var gate = await GateAsync(id, GateKind.Design);

        Assert.False(gate.Passed);
        Assert.Equal(["Head design (Head): in review at version 2."], gate.Details);
    }

    [Fact]
    public async Task A_component_with_tasks_but_no_design_document_fails_the_design_gate()
    {
        var id = await _bed.CreateReleaseAsync();
        await _bed.AddDesignAsync(ModelComponent.Backbone);
        await _bed.AddTaskAsync(ReproductionStage.Implementation, ModelComponent.Loss, ProjectTaskStatus.Done);
        await _bed.AddTaskAsync(ReproductionStage.Implementation, ModelComponent.Infrastructure, ProjectTaskStatus.Done);

        var gate = await GateAsync(id, GateKind.Design);

        Assert.False(gate.Passed);
        Assert.Equal(["Loss: no design document."], gate.Details);
    }

    [Fact]
    public async Task The_prefilled_model_card_fails_until_the_TODO_sections_are_written()
    {
        var id = await _bed.CreateReleaseAsync();
        await _bed.Releases.ChooseRunsAsync(_bed.Lead1, id, [await _bed.AddRunAsync(1, "member-1", 40.1, 60.2)]);
        await _bed.Releases.PrefillModelCardAsync(_bed.Lead1, id);

        var view = await _bed.Releases.GetAsync(id);
        var gate = view.Gates.Single(g => g.Kind == GateKind.ModelCard);

        Assert.False(gate.Passed);
        Assert.Equal(["Intended use", "Training data", "Hardware", "Limitations", "Licence"], ModelCardTemplate.UnfilledSections(view.Release.ModelCardMarkdown));
        Assert.Contains("| AP | COCO | test-dev | 40.0 | 40.1 | - | 1 | +0.1 |", view.Release.ModelCardMarkdown);
        Assert.Contains("TinyDet: small and fast", view.Release.ModelCardMarkdown);

        await _bed.Releases.SaveModelCardAsync(_bed.Lead1, id, ReleaseTestBed.FilledCard);
        Assert.True((await GateAsync(id, GateKind.ModelCard)).Passed);
    }
}
