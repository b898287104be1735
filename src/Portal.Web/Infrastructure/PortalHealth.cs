using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Portal.Web.Data;

namespace Portal.Web.Infrastructure;

/// <summary>
/// /health/live (the process answers) and /health/ready (the database, and Redis when configured, answer): what a
/// load balancer or orchestrator asks before sending traffic. The same readiness shows in the UI when degraded.
/// </summary>
public static class PortalHealth
{
    public const string Ready = "ready";

    public static IServiceCollection AddPortalHealth(this IServiceCollection services, PortalOptions options)
    {
        var checks = services.AddHealthChecks().AddCheck<DatabaseCheck>("database", tags: [Ready]);
        if (options.UsesRedis) checks.AddCheck<RedisCheck>("redis", tags: [Ready]);
        return services;
    }

    public static WebApplication MapPortalHealth(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false }).AllowAnonymous();
        app.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = c => c.Tags.Contains(Ready),
            ResponseWriter = WriteAsync,
        }).AllowAnonymous();
        return app;
    }

    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), description = e.Value.Description }),
        }));
    }

    /// <summary>
    /// Until the database was reached at start-up (see <see cref="PortalDatabase"/>), every request but the health
    /// endpoints gets 503 with Retry-After: pages and the API would only fail on the missing schema.
    /// </summary>
    public static WebApplication UseNotReadyUntilTheDatabaseIs(this WebApplication app)
    {
        var startup = app.Services.GetRequiredService<DatabaseStartup>();
        app.Use(async (context, next) =>
        {
            if (startup.IsReady || context.Request.Path.StartsWithSegments("/health"))
            {
                await next(context);
                return;
            }
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            context.Response.Headers.RetryAfter = "5";
            await context.Response.WriteAsync("The portal is starting: its database is unreachable. It tries again until the database answers.");
        });
        return app;
    }

    private sealed class DatabaseCheck(IDbContextFactory<PortalDbContext> dbFactory, DatabaseStartup startup) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            if (!startup.IsReady)
                return HealthCheckResult.Unhealthy("The database is unreachable: the portal waits for it to apply its migrations.");
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(5));
                await using var db = await dbFactory.CreateDbContextAsync(timeout.Token);
                if (await db.Database.CanConnectAsync(timeout.Token)) return HealthCheckResult.Healthy("The database answers.");
                Forget(db);
                return HealthCheckResult.Unhealthy("The database is unreachable.");
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                Npgsql.NpgsqlConnection.ClearAllPools();
                return HealthCheckResult.Unhealthy($"The database is unreachable ({e.Message}).");
            }
        }

        /// <summary>Idle pooled connections to a PostgreSQL server that went away are dead: the next ones are opened anew.</summary>
        private static void Forget(PortalDbContext db)
        {
            if (db.Database.IsNpgsql()) Npgsql.NpgsqlConnection.ClearAllPools();
        }
    }

    private sealed class RedisCheck(ClusterBus bus, Backplane backplane) : IHealthCheck
    {
        // The hubs' backplane has a connection of its own, which may come back a moment after the live topics' one.
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            await bus.PingAsync() && backplane.IsConnected
                ? HealthCheckResult.Healthy("Redis answers.")
                : HealthCheckResult.Unhealthy("Redis is unreachable: live updates from other instances are not shown.");
    }
}
