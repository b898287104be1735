using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Portal.Contracts;
using Portal.Testing;
using Portal.Testing.Curves;
using Portal.Web.Features.Curves;

namespace Portal.Web.Tests.Curves;

/// <summary>A series read fetches about as many rows as it draws, whatever steps the agent logged.</summary>
public sealed class BoundedSeriesReadTests : IClassFixture<PortalAppFactory>
{
    private const long Outlier = 1_000_000_000_000;
    private readonly PortalAppFactory _app;
    public BoundedSeriesReadTests(PortalAppFactory app) => _app = app;

    private async Task<(long Rows, SeriesData Series)> ReadAsync(long runId, long? from, long? to)
    {
        using var scope = _app.Services.CreateScope();
        var curves = scope.ServiceProvider.GetRequiredService<CurveService>();
        var rows = CurveReadMeter.Start();
        var series = (await curves.GetSeriesAsync([runId], "loss", from, to)).Single();
        return (rows.Value, series);
    }

    [Fact]
    public async Task A_series_with_one_point_at_step_ten_to_the_twelfth_is_read_with_a_bounded_number_of_rows()
    {
        _ = _app.ServerAddress;
        var runId = await CurveTestData.CreateRunAsync(_app);
        var points = CurveTestData.Curve("loss", 0, 100_000);
        points.Add(new MetricPointDto("loss", Outlier, 9.0, points[^1].WallTime.AddSeconds(1)));
        await CurveTestData.WritePointsAsync(_app, runId, points, publish: false);
        await ReadAsync(runId, null, null); // rolls the tiers up once

        foreach (var (from, to) in new (long?, long?)[] { (null, null), (1_000, null), (1_000, Outlier), (50_000, Outlier - 1), (0, 99_999), (12_345, 67_890) })
        {
            var (rows, series) = await ReadAsync(runId, from, to);
            Assert.True(rows <= 3 * CurveLevels.DefaultMaxPoints, $"[{from}, {to}] read {rows} rows");
            Assert.InRange(series.Steps.Length, 1, CurveLevels.DefaultMaxPoints);
        }

        // The summary of a cut edge bucket is exact: the spike at step 1,000 is drawn when the range starts there.
        var (_, edge) = await ReadAsync(runId, 1_000, Outlier);
        Assert.Contains(1_000L, edge.Steps);
        Assert.Contains(Outlier, edge.Steps);
        Assert.Contains(99_999L, edge.Steps);
    }

    [Fact]
    public async Task A_run_with_many_metric_names_draws_the_first_charts_and_offers_the_rest_by_name()
    {
        _ = _app.ServerAddress;
        var runId = await CurveTestData.CreateRunAsync(_app);
        var points = Enumerable.Range(0, RunCharts.MaxCharts + 40)
            .SelectMany(i => CurveTestData.Curve($"metric/{i:D3}", 0, 2)).ToList();
        await CurveTestData.WritePointsAsync(_app, runId, points, publish: false);
        using var client = await SignedInClient.CreateAsync(_app.ServerAddress, "member3");

        var html = await client.GetStringAsync($"runs/{runId}");

        Assert.Equal(RunCharts.MaxCharts, CountOf(html, "data-testid=\"chart\""));
        Assert.Contains("data-testid=\"chart-picker\"", html);
        Assert.Contains($"Showing {RunCharts.MaxCharts} of {RunCharts.MaxCharts + 40} metrics", WebUtility.HtmlDecode(html));
    }

    private static int CountOf(string text, string part)
    {
        var count = 0;
        for (var i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + part.Length, StringComparison.Ordinal)) count++;
        return count;
    }
}
