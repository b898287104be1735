using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Curves;

/// <summary>
/// Live points of a run's metric as the hub sends them (<see cref="IMetricsViewer.Points"/>): <paramref name="Count"/> points packed by
/// <see cref="LivePointsCodec"/> (steps, values with NaN for a gap, Unix ms wall times).
/// </summary>
public sealed record LivePoints(long RunId, string Metric, int Count, string Packed)
{
    public (long[] Steps, double[] Values, long[] Times) Decode() => LivePointsCodec.Decode(Packed);
}

/// <summary>
/// What the viewers' hub calls on a browser chart. The method names are the event names on the wire: the chart
/// module (wwwroot/js/curves/live.js) listens to exactly these, which a test checks.
/// </summary>
public interface IMetricsViewer
{
    /// <summary>A stored batch of points of one run's metric.</summary>
    Task Points(LivePoints points);
}

/// <summary>
/// The viewers' hub (/hubs/metrics): a signed-in browser chart watches a run's metric, or all of a run's metrics,
/// and gets each stored batch of points as it is published. Cookie-authenticated like the pages.
/// </summary>
[Authorize]
public sealed class MetricsHub(MetricFanout fanout, CurveService curves) : Hub<IMetricsViewer>
{
    public const string Path = "/hubs/metrics";

    /// <summary>Watch one metric of a run, or every metric of it when <paramref name="metric"/> is null.</summary>
    public async Task Watch(long runId, string? metric)
    {
        try { await curves.RequireRunAsync(runId, Context.ConnectionAborted); }
        catch (PortalError e) { throw new HubException(e.Message); }
        fanout.Track(Context.ConnectionId, runId);
        await Groups.AddToGroupAsync(Context.ConnectionId, MetricFanout.Group(runId, metric), Context.ConnectionAborted);
    }

    public Task Unwatch(long runId, string? metric) =>
        Groups.RemoveFromGroupAsync(Context.ConnectionId, MetricFanout.Group(runId, metric));

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        fanout.Forget(Context.ConnectionId);
        return base.OnDisconnectedAsync(exception);
    }
}
