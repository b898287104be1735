using Portal.Web.Features;
using Portal.Web.Features.Projects;
using Portal.Web.Features.Releases;
using Portal.Web.Features.Tasks;

namespace Portal.Web.Tests.Releases;

/// <summary>Gate texts read as plain sentences: names as people say them, counts in the right number, no negative zero.</summary>
public sealed class GateWordingTests
{
    private static ReleaseEvidence Evidence(IReadOnlyList<ProjectTask>? tasks = null, IReadOnlyList<DefectFact>? defects = null, IReadOnlyList<ModelComponent>? components = null) =>
        new(new Release { Id = 1, Name = "Net", Version = "1", RequiredStages = [ReproductionStage.Implementation, ReproductionStage.Training] },
            new Project { Id = 2, Name = "Net", Claims = [new PaperClaim { Id = 1, Metric = "AP", Dataset = "COCO", Split = "test-dev", Value = 40 }] },
            tasks ?? [], components ?? [], [], [], new Dictionary<string, string>(), defects);

    [Fact]
    public void A_gap_that_rounds_to_zero_is_written_without_a_sign()
    {
        Assert.Equal("0.0", ReleaseGates.Signed(-0.0001));
        Assert.Equal("0.0", ReleaseGates.F(-0.0004));
        Assert.Equal("+0.25", ReleaseGates.Signed(0.25));
        Assert.Equal("-0.3", ReleaseGates.Signed(-0.3));
    }

    [Fact]
    public void Stage_component_and_status_names_read_as_words_and_counts_agree_with_their_nouns()
    {
        var task = new ProjectTask { Id = 5, Title = "Loss work", Stage = ReproductionStage.Training, Status = ProjectTaskStatus.InReview };
        var stages = ReleaseGates.Stages(Evidence([task]));
        Assert.Equal("1 of 1 task of the stages Implementation, Integration and training is not done.", stages.Summary);
        Assert.Equal(["#5 Loss work (Integration and training): in review"], stages.Details);

        var design = ReleaseGates.Design(Evidence(components: [ModelComponent.DataPipeline]));
        Assert.Equal(["Data pipeline: no design document."], design.Details);

        var defects = ReleaseGates.Defects(Evidence(defects: [new DefectFact(9, "Mosaic", ModelComponent.DataPipeline, Blocking: true, Open: true)]));
        Assert.Equal("1 open blocking defect.", defects.Summary);
        Assert.Equal(["#9 Mosaic (Data pipeline)"], defects.Details);

        var reproducibility = ReleaseGates.Reproducibility(Evidence(), ReleaseGates.Claims(Evidence()));
        Assert.Equal("1 of 1 claim not reproduced within ±1.0.", reproducibility.Summary);
    }
}
