using Portal.Web.Features.Defects;
using Portal.Web.Features.Projects;
using Portal.Web.Features.Releases;
using Portal.Web.Features.Tasks;

namespace Portal.Web.Tests.Defects;

public sealed class DefectStatisticsAndGateTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    private static DefectFacts F(DefectStage stage, DefectStatus status, string component = "Head", double? verifiedAfterDays = null) =>
        new(component, status, ReporterKind.ReUser, DefectManifestation.Basic, stage, DefectImpact.Crash, DefectType.Logic, RootCause.Api,
            T0, verifiedAfterDays is { } days ? T0.AddDays(days) : null);

    [Fact]
    public void The_stage_distribution_matches_a_hand_count_beside_the_studys_shares()
    {
        var defects = new[]
        {
            F(DefectStage.Environment, DefectStatus.Open), F(DefectStage.Environment, DefectStatus.Open),
            F(DefectStage.Training, DefectStatus.Fixed), F(DefectStage.Modeling, DefectStatus.Verified, verifiedAfterDays: 2),
        };

        var stage = DefectStatistics.Distribution(defects, DefectDimension.Stage);

        Assert.Equal(4, stage.Total);
        Assert.Equal(
            [("Environment", 2, 0.5, (double?)0.45), ("Training", 1, 0.25, 0.26), ("Data pipeline", 0, 0.0, 0.20), ("Modeling", 1, 0.25, 0.09), ("Other", 0, 0.0, null)],
            stage.Rows.Select(r => (r.Name, r.Count, r.Share, r.StudyShare)));
        Assert.Equal(6, DefectStatistics.AllDistributions(defects).Count);
    }

    [Fact]
    public void Open_defects_count_by_component_and_status_and_the_median_time_to_verified_is_computed()
    {
        var defects = new[]
        {
            F(DefectStage.Environment, DefectStatus.Open, "Head"), F(DefectStage.Environment, DefectStatus.Open, "Head"),
            F(DefectStage.Training, DefectStatus.Fixed, "Loss"), F(DefectStage.Modeling, DefectStatus.Verified, "Loss", 1),
            F(DefectStage.Modeling, DefectStatus.Verified, "Loss", 4), F(DefectStage.Modeling, DefectStatus.WontFix, "Loss"),
        };

        var open = DefectStatistics.OpenByComponentAndStatus(defects);

        Assert.Equal(2, open.Count);
        Assert.Equal(2, open[("Head", DefectStatus.Open)]);
        Assert.Equal(1, open[("Loss", DefectStatus.Fixed)]);
        Assert.Equal(TimeSpan.FromDays(2.5), DefectStatistics.MedianTimeToVerified(defects));
        Assert.Null(DefectStatistics.MedianTimeToVerified([F(DefectStage.Training, DefectStatus.Open)]));
    }

    [Fact]
    public void The_studys_shares_of_each_dimension_add_up_to_no_more_than_one()
    {
        foreach (var (dimension, values) in DefectTaxonomy.Values)
            Assert.InRange(values.Sum(v => v.StudyShare ?? 0), 0.5, 1.001);
    }

    private static ReleaseEvidence Evidence(params DefectFact[] defects) =>
        new(new Release(), new Project { Id = 7 }, [], [], [], [], new Dictionary<string, string>(), defects);

    [Fact]
    public void The_defects_gate_fails_on_an_open_blocking_defect_and_passes_once_it_is_closed()
    {
        var open = Evidence(new DefectFact(3, "NaN loss", ModelComponent.Loss, Blocking: true, Open: true),
            new DefectFact(4, "Slow loader", ModelComponent.DataPipeline, Blocking: false, Open: true));
        var closed = Evidence(new DefectFact(3, "NaN loss", ModelComponent.Loss, Blocking: true, Open: false));

        var failing = ReleaseGates.Defects(open);
        var passing = ReleaseGates.Defects(closed);

        Assert.Equal((GateState.Fail, "1 open blocking defect."), (failing.State, failing.Summary));
        Assert.Equal("#3 NaN loss (Loss)", Assert.Single(failing.Details));
        Assert.Equal("/projects/7/defects", failing.EvidenceLink);
        Assert.True(passing.Passed);
        Assert.True(ReleaseGates.Defects(Evidence()).Passed);
        Assert.NotEqual(ReleaseGates.Fingerprint(open), ReleaseGates.Fingerprint(closed));
        Assert.Equal(ReleaseGates.Fingerprint(closed), ReleaseGates.Fingerprint(Evidence()));
    }
}
