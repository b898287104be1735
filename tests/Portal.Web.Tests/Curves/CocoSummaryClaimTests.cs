using Portal.Web.Features.Curves;
using Portal.Web.Features.Projects;
using Portal.Web.Features.Releases;
using Portal.Web.Features.Reproducibility;
using Portal.Web.Features.Runs;

namespace Portal.Web.Tests.Curves;

/// <summary>
/// The detector recipe reports COCOeval's twelve summary numbers; a paper claim on any of them must reach that
/// number, and only that one, on the chart, in the release gates and on the reproducibility dashboard.
/// </summary>
public sealed class CocoSummaryClaimTests
{
    private static readonly string[] Summary = ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"];

    private static double ValueOf(string metric) => 0.1 + 0.01 * Array.IndexOf(Summary, metric);

    private static readonly Run Run = new()
    {
        Id = 1, Dataset = "synthetic-shapes", Split = "val", Seed = 1, Status = RunStatus.Succeeded, StartedById = "member-1",
        Commit = "abcdef0123", QueuedAt = DateTimeOffset.UnixEpoch,
        FinalMetrics = [.. Summary.Select(n => new RunFinalMetric { Name = n, Value = ValueOf(n) })],
    };

    [Theory]
    [InlineData("APs", "APs")]
    [InlineData("APm", "APm")]
    [InlineData("APl", "APl")]
    [InlineData("APS", "APs")]
    [InlineData("APL (CSP-640)", "APl")]
    [InlineData("AR1", "AR1")]
    [InlineData("AR10", "AR10")]
    [InlineData("AR100", "AR100")]
    [InlineData("ARs", "ARs")]
    [InlineData("ARm", "ARm")]
    [InlineData("ARl", "ARl")]
    public void A_claim_on_a_COCO_summary_number_is_drawn_on_that_series_alone(string claimMetric, string reported) =>
        Assert.Equal(["eval/" + reported], Summary.Select(n => "eval/" + n).Where(series => ClaimBands.Matches(series, claimMetric)));

    [Theory]
    [InlineData("APs")]
    [InlineData("APm")]
    [InlineData("APl")]
    [InlineData("AR1")]
    [InlineData("AR10")]
    [InlineData("AR100")]
    [InlineData("ARs")]
    [InlineData("ARm")]
    [InlineData("ARl")]
    public void The_release_gate_and_the_dashboard_count_a_runs_value_of_the_claimed_summary_number(string metric)
    {
        var claim = new PaperClaim { Id = 1, Metric = metric, Dataset = "synthetic-shapes", Split = "val", Value = ValueOf(metric) };
        var project = new Project { Tolerance = 0.005, Claims = [claim] };
        var evidence = new ReleaseEvidence(new Release(), project, [], [], [], [Run], new Dictionary<string, string>());

        var gate = Assert.Single(ReleaseGates.Claims(evidence));
        var standing = ReproducibilityService.Standing(claim, project.Tolerance, [Run]);

        Assert.Equal(ValueOf(metric), Assert.Single(gate.Counted).Value);
        Assert.True(gate.Within);
        Assert.Equal(new SplitSummary("val", 1, ValueOf(metric), ValueOf(metric)), standing.Counted);
        Assert.True(standing.Within);
    }
}
