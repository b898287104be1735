using Microsoft.AspNetCore.Mvc;
using Portal.Web.Features.Runs;

namespace Portal.Web.Features.Curves;

public static class CurvesFeature
{
    public static IServiceCollection AddCurvesFeature(this IServiceCollection services)
    {
        services.AddSingleton<CurveRollups>();
        services.AddSingleton<IRunPointsDerived>(sp => sp.GetRequiredService<CurveRollups>());
        services.AddSingleton(new RunPageSection(typeof(RunPageCharts)));
        services.AddSingleton<CurveService>();
        services.AddSingleton<RunAnnotations>();
        services.AddSingleton<MetricFanout>();
        services.AddHostedService(sp => sp.GetRequiredService<MetricFanout>());
        services.AddHostedService<RollupRoller>();
        // The browser's chart speaks JSON. With the Redis backplane every group message is serialized for each
        // protocol its hub supports, and the viewers' messages carry every stored point.
        services.AddSignalR().AddHubOptions<MetricsHub>(hub => hub.SupportedProtocols = ["json"]);
        return services;
    }

    public static WebApplication MapCurves(this WebApplication app)
    {
        app.MapHub<MetricsHub>(MetricsHub.Path);
        // The chart module reads points straight from here (cookie-authenticated), not through the circuit:
        // long series should not travel through the Blazor render loop.
        app.MapGet("/api/curves/series", async ([FromQuery(Name = "run")] long[] runs, string metric, long? from, long? to, int? max,
                CurveService curves, CancellationToken cancellationToken) =>
            TypedResults.Ok(await curves.GetSeriesAsync(runs, metric, from, to, max ?? CurveLevels.DefaultMaxPoints, cancellationToken)));
        return app;
    }
}
