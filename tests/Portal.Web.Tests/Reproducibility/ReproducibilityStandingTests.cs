using System.Net;
using Portal.Testing;
using Portal.Web.Features.Projects;
using Portal.Web.Features.Reproducibility;
using Portal.Web.Features.Runs;

namespace Portal.Web.Tests.Reproducibility;

public sealed class ReproducibilityStandingTests
{
    private static readonly PaperClaim Claim = new() { Metric = "AP", Dataset = "COCO", Split = "test-dev", Value = 21.7 };

    private static Run Run(long id, string split, string commit, double ap, int day) => new()
    {
        Id = id, Dataset = "COCO", Split = split, Commit = commit, Status = RunStatus.Succeeded, QueuedAt = DateTimeOffset.UnixEpoch.AddDays(day),
        FinalMetrics = [new RunFinalMetric { Name = "AP", Value = ap }],
    };

    [Fact]
    public void Only_runs_on_the_claims_split_count_and_the_others_are_listed_apart()
    {
        var standing = ReproducibilityService.Standing(Claim, 0.5,
            [Run(1, "test-dev", "aaaaaaaaaa", 21.3, 1), Run(2, "test-dev", "aaaaaaaaaa", 21.5, 2), Run(3, "val", "bbbbbbbbbb", 22.9, 3)]);

        Assert.Equal(new SplitSummary("test-dev", 2, 21.5, 21.4), standing.Counted! with { Mean = Math.Round(standing.Counted!.Mean, 6) });
        Assert.Equal(-0.3, standing.Gap!.Value, 6);
        Assert.True(standing.Within);
        Assert.Equal([new SplitSummary("val", 1, 22.9, 22.9)], standing.OtherSplits);
        Assert.Equal("test-dev", standing.PlottedSplit);
        Assert.Equal(["aaaaaaaa"], standing.ByCommit.Select(p => p.Commit));
    }

    [Fact]
    public void Without_a_run_on_the_claims_split_there_is_no_gap_and_the_other_split_is_plotted_per_commit()
    {
        var standing = ReproducibilityService.Standing(Claim, 1.0,
            [Run(1, "val", "c1", 18.6, 1), Run(2, "val", "c2", 20.4, 2), Run(3, "val", "c3", 21.1, 3), Run(4, "val", "c3", 21.3, 4)]);

        Assert.Null(standing.Counted);
        Assert.Null(standing.Gap);
        Assert.False(standing.Within);
        Assert.Equal("val", standing.PlottedSplit);
        Assert.Equal([("c1", 18.6), ("c2", 20.4), ("c3", 21.2)], standing.ByCommit.Select(p => (p.Commit, Math.Round(p.Mean, 6))));
    }
}

public sealed class ReproducibilityPageTests : IClassFixture<PortalAppFactory>
{
    private readonly PortalAppFactory _app;
    public ReproducibilityPageTests(PortalAppFactory app) => _app = app;

    [Fact]
    public async Task The_dashboard_shows_the_demo_yolov4_tiny_numbers_on_val_apart_from_the_test_dev_claim()
    {
        using var member = await SignedInClient.CreateAsync(_app.ServerAddress, "member1");

        var html = WebUtility.HtmlDecode(await member.GetStringAsync("reproducibility"));

        Assert.Contains("no run on test-dev", html);
        Assert.Contains("val: 5 runs, best 21.24, mean 20.524", html);
    }
}
