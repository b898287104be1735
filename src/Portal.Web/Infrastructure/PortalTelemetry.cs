using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Portal.Web.Infrastructure;

/// <summary>
/// OpenTelemetry traces, metrics and logs (requests, SignalR, HTTP clients, EF Core, and <see cref="PortalMeters"/>),
/// exported by OTLP when the usual variables name a collector (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME, ...).
/// Without them nothing is collected, so a portal without a collector pays nothing.
/// </summary>
public static class PortalTelemetry
{
    public static WebApplicationBuilder AddPortalTelemetry(this WebApplicationBuilder builder)
    {
        if (string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"])) return builder;
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(builder.Configuration["OTEL_SERVICE_NAME"] ?? "portal"))
            .WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddEntityFrameworkCoreInstrumentation()
                .AddSource("Microsoft.AspNetCore.SignalR.Server"))
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddMeter(PortalMeters.Name, "Microsoft.AspNetCore.Http.Connections", "Microsoft.AspNetCore.Server.Kestrel"))
            .UseOtlpExporter();
        return builder;
    }
}
