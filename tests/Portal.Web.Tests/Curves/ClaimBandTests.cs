using Portal.Web.Features.Curves;
using Portal.Web.Features.Projects;

namespace Portal.Web.Tests.Curves;

public sealed class ClaimBandTests
{
    [Theory]
    [InlineData("eval/AP50", "AP50", true)]
    [InlineData("val/ap50", "AP50", true)]
    [InlineData("test/AP50", "AP50", true)]
    [InlineData("AP50", "AP50", true)]
    [InlineData("eval/AP", "AP (CSP-640)", true)]
    [InlineData("eval/AP", "AP50", false)]
    [InlineData("eval/AP50", "AP", false)]
    [InlineData("train/AP50", "AP50", false)]
    [InlineData("eval/AP50_loss", "AP50", false)]
    [InlineData("loss", "AP50", false)]
    public void A_claim_metric_maps_to_exactly_its_evaluation_series(string series, string claimMetric, bool expected) =>
        Assert.Equal(expected, ClaimBands.Matches(series, claimMetric));

    [Fact]
    public void The_band_is_the_claim_plus_and_minus_the_project_tolerance()
    {
        var claims = new[]
        {
            new PaperClaim { Metric = "AP", Value = 21.7, Dataset = "COCO", Split = "test-dev", Source = "Table 7" },
            new PaperClaim { Metric = "AP50", Value = 42.0, Dataset = "COCO", Split = "test-dev", Source = "Table 7" },
        };

        var band = Assert.Single(ClaimBands.For("eval/AP50", claims, tolerance: 0.5));

        Assert.Equal(("AP50", 42.0, 41.5, 42.5, "test-dev"), (band.ClaimMetric, band.Value, band.Low, band.High, band.Split));
        Assert.Empty(ClaimBands.For("train/loss", claims, 0.5));
    }

    [Fact]
    public void The_gap_says_how_far_the_reached_value_is_and_whether_it_is_within_the_band()
    {
        var band = new ClaimBand("AP50", "COCO", "test-dev", 42.0, 41.0, 43.0, 1.0, "Table 7");
        var (gap, within) = ClaimBands.Gap(41.68, band);
        Assert.Equal(-0.32, gap, 6);
        Assert.True(within);
        Assert.False(ClaimBands.Gap(40.9, band).Within);
        Assert.True(ClaimBands.Gap(41.0, band).Within);
    }
}
