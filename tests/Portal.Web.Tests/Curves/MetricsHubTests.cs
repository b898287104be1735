using System.Net;
using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Portal.Testing;
using Portal.Testing.Curves;
using Portal.Web.Features.Curves;

namespace Portal.Web.Tests.Curves;

/// <summary>The viewers' hub over a real SignalR connection, authenticated by the sign-in cookie like a browser.</summary>
public sealed class MetricsHubTests(PortalAppFactory app) : IClassFixture<PortalAppFactory>
{
    private async Task<HubConnection> ConnectAsync(string userName)
    {
        var cookies = new CookieContainer();
        using (var client = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = app.ServerAddress })
        {
            var token = await SignedInClient.GetAntiforgeryTokenAsync(client, "account/login");
            await client.PostAsync("account/login", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["username"] = userName, ["password"] = SignedInClient.DemoPassword, ["returnUrl"] = "/", ["__RequestVerificationToken"] = token,
            }));
        }
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(app.ServerAddress, MetricsHub.Path.TrimStart('/')), o => o.Cookies = cookies)
            .Build();
        await connection.StartAsync();
        return connection;
    }

    [Fact]
    public async Task A_viewer_watching_a_metric_gets_each_published_batch_packed_with_NaN_kept()
    {
        var runId = await CurveTestData.CreateRunAsync(app);
        await using var viewer = await ConnectAsync("mentor1");
        var received = Channel.CreateUnbounded<LivePoints>();
        viewer.On<LivePoints>(nameof(IMetricsViewer.Points), p => received.Writer.TryWrite(p));
        await viewer.InvokeAsync("Watch", runId, "train/loss");

        var points = CurveTestData.Curve("train/loss", 0, 5);
        points[2] = points[2] with { Value = double.NaN };
        await CurveTestData.WritePointsAsync(app, runId, [.. points, .. CurveTestData.Curve("train/lr", 0, 5)]);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var message = await received.Reader.ReadAsync(timeout.Token);
        Assert.Equal((runId, "train/loss"), (message.RunId, message.Metric));
        var (steps, values, times) = message.Decode();
        Assert.Equal(5, message.Count);
        Assert.Equal([0L, 1, 2, 3, 4], steps);
        Assert.True(double.IsNaN(values[2]));
        Assert.Equal(points[4].Value, values[4]);
        Assert.Equal(points.Select(p => p.WallTime.ToUnixTimeMilliseconds()), times);
        // Messages on a connection keep their order: had train/lr been sent to this viewer, it would come first.
        await CurveTestData.WritePointsAsync(app, runId, CurveTestData.Curve("train/loss", 5, 2));
        var next = await received.Reader.ReadAsync(timeout.Token);
        Assert.Equal(("train/loss", 5L), (next.Metric, next.Decode().Steps[0]));
    }

    [Fact]
    public async Task Watching_a_run_that_does_not_exist_fails_with_a_readable_message()
    {
        await using var viewer = await ConnectAsync("member1");
        var error = await Assert.ThrowsAsync<HubException>(() => viewer.InvokeAsync("Watch", 424_242L, (string?)null));
        Assert.Contains("There is no run 424242", error.Message);
    }

    [Fact]
    public async Task The_hub_refuses_a_connection_without_a_sign_in()
    {
        var connection = new HubConnectionBuilder().WithUrl(new Uri(app.ServerAddress, MetricsHub.Path.TrimStart('/'))).Build();
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => connection.StartAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);
    }
}
