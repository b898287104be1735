using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Portal.Testing;
using Portal.Testing.Curves;
using Portal.Web.Features.Curves;

namespace Portal.Web.Tests.Curves;

public sealed class InfiniteValueTests(PortalAppFactory app) : IClassFixture<PortalAppFactory>
{
    [Fact]
    public async Task Infinite_values_are_gaps_on_the_chart_and_the_series_endpoint_still_answers()
    {
        var runId = await CurveTestData.CreateRunAsync(app);
        var points = CurveTestData.Curve("train/loss", 1, 20);
        points[4] = points[4] with { Value = double.PositiveInfinity };
        points[9] = points[9] with { Value = double.NegativeInfinity };
        await CurveTestData.WritePointsAsync(app, runId, points, publish: false);

        var data = Assert.Single(await app.Services.GetRequiredService<CurveService>().GetSeriesAsync([runId], "train/loss", null, null));
        Assert.Null(data.Values[4]);
        Assert.Null(data.Values[9]);
        Assert.NotNull(data.Values[5]);

        using var client = await SignedInClient.CreateAsync(app.ServerAddress, "mentor1");
        var response = await client.GetAsync($"api/curves/series?run={runId}&metric=train/loss");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(JsonValueKind.Null, json.RootElement[0].GetProperty("values")[4].ValueKind);
    }
}
