using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Contracts;
using Portal.Testing;
using Portal.Testing.Curves;
using Portal.Web.Features.Curves;
using Portal.Web.Infrastructure;

namespace Portal.Web.Tests.Curves;

/// <summary>The stored tiers against the rule they implement, on the portal's real SQLite file.</summary>
public sealed class CurveStoreTests(PortalAppFactory app) : IClassFixture<PortalAppFactory>
{
    private CurveService Curves => app.Services.GetRequiredService<CurveService>();

    private static List<SeriesPoint> AsSeriesPoints(IEnumerable<MetricPointDto> points) =>
        points.Select(p => new SeriesPoint(p.Step, p.Value, p.WallTime.ToUnixTimeMilliseconds())).ToList();

    private static List<SeriesPoint> AsSeriesPoints(SeriesData data) =>
        data.Steps.Select((s, i) => new SeriesPoint(s, data.Values[i] ?? double.NaN, data.Times[i])).ToList();

    [Fact]
    public async Task Charts_read_from_the_tiers_show_exactly_what_downsampling_every_point_shows()
    {
        var runId = await CurveTestData.CreateRunAsync(app);
        var points = CurveTestData.Curve("train/loss", 0, 150_000);
        points[98_765] = points[98_765] with { Value = 99.0 };
        points[12_345] = points[12_345] with { Value = double.NaN };
        // Uneven batches, so buckets are continued across catch-ups, with a chart read between them.
        await CurveTestData.WritePointsAsync(app, runId, points[..33_333], publish: false);
        await Curves.GetSeriesAsync([runId], "train/loss", null, null);
        await CurveTestData.WritePointsAsync(app, runId, points[33_333..], publish: false);
        var all = AsSeriesPoints(points);

        foreach (var (from, to) in new (long?, long?)[] { (null, null), (1_000, 140_000), (98_000, 99_999), (12_000, 12_999), (7, 149_990) })
        {
            var data = Assert.Single(await Curves.GetSeriesAsync([runId], "train/loss", from, to));
            var expected = Downsampler.Downsample(all, from ?? 0, to ?? 149_999);
            Assert.Equal(expected.Level, data.Level);
            Assert.Equal(expected.Points, AsSeriesPoints(data));
        }
    }

    [Fact]
    public async Task A_spike_survives_the_tiers_and_a_zoomed_range_comes_at_full_resolution()
    {
        var runId = await CurveTestData.CreateRunAsync(app);
        var points = CurveTestData.Curve("train/loss", 0, 200_000);
        points[150_001] = points[150_001] with { Value = 1e6 };
        await CurveTestData.WritePointsAsync(app, runId, points, publish: false);

        var whole = Assert.Single(await Curves.GetSeriesAsync([runId], "train/loss", null, null));
        var zoomed = Assert.Single(await Curves.GetSeriesAsync([runId], "train/loss", 150_000, 151_499));

        Assert.True(whole.Steps.Length <= CurveLevels.DefaultMaxPoints);
        Assert.Equal(200_000, whole.Count);
        Assert.Contains(whole.Steps.Zip(whole.Values), p => p.First == 150_001 && p.Second == 1e6);
        Assert.Equal(0, zoomed.Level);
        Assert.Equal(Enumerable.Range(150_000, 1_500).Select(i => (long)i), zoomed.Steps);
    }

    [Fact]
    public async Task NaN_values_come_as_nulls_and_the_series_still_loads()
    {
        var runId = await CurveTestData.CreateRunAsync(app);
        var points = CurveTestData.Curve("eval/AP50", 0, 50);
        points[10] = points[10] with { Value = double.NaN };
        points[11] = points[11] with { Value = double.NaN };
        await CurveTestData.WritePointsAsync(app, runId, points, publish: false);

        var data = Assert.Single(await Curves.GetSeriesAsync([runId], "eval/AP50", null, null));

        Assert.Equal(50, data.Values.Length);
        Assert.Null(data.Values[10]);
        Assert.Null(data.Values[11]);
        Assert.NotNull(data.Values[12]);
    }

    [Fact]
    public void The_metric_writers_NaN_sentinel_reads_back_as_NaN_and_ordinary_values_unchanged()
    {
        Assert.True(double.IsNaN(CurveRollups.FromStoredValue(BitConverter.Int64BitsToDouble(CurveRollups.NaNSentinelBits))));
        Assert.Equal(-0.0, CurveRollups.FromStoredValue(-0.0));
        Assert.Equal(double.Epsilon, CurveRollups.FromStoredValue(double.Epsilon));
        Assert.Equal(42.5, CurveRollups.FromStoredValue(42.5));
    }

    [Fact]
    public async Task A_run_that_does_not_exist_is_named_in_a_not_found_error()
    {
        var error = await Assert.ThrowsAsync<PortalError>(() => Curves.GetSeriesAsync([987_654], "train/loss", null, null));
        Assert.Equal(PortalErrorKind.NotFound, error.Kind);
        Assert.Contains("987654", error.Message);
    }

    [Fact]
    public async Task The_series_endpoint_answers_a_missing_run_with_a_readable_problem()
    {
        using var client = await SignedInClient.CreateAsync(app.ServerAddress, "mentor1");
        var response = await client.GetAsync("api/curves/series?run=987654&metric=train/loss");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("There is no run 987654", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_chart_set_puts_the_claimed_metric_first_with_its_band()
    {
        var runId = await CurveTestData.CreateRunAsync(app);
        await CurveTestData.WritePointsAsync(app, runId, [.. CurveTestData.Curve("train/loss", 0, 10), .. CurveTestData.Curve("eval/AP50", 0, 3)], publish: false);
        var project = await app.WithDbAsync(db => db.Projects.FirstAsync(p => p.Name == "YOLOv4-tiny"));

        var set = await Curves.GetChartSetAsync(null, [runId]);

        Assert.Equal(["eval/AP50", "train/loss"], set.Metrics.Select(m => m.Name));
        var band = Assert.Single(set.Metrics[0].Claims);
        Assert.Equal((42.0, 42.0 - project.Tolerance, 42.0 + project.Tolerance), (band.Value, band.Low, band.High));
        Assert.Empty(set.Metrics[1].Claims);
    }
}
