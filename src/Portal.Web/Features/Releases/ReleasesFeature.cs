using Portal.Web.Features.Demo;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Releases;

public static class ReleasesFeature
{
    public static IServiceCollection AddReleasesFeature(this IServiceCollection services)
    {
        services.AddSingleton<ReleaseEvidenceReader>();
        services.AddScoped<ReleaseChanges>();
        services.AddScoped<ReleaseService>();
        services.AddScoped<ReleaseSignOff>();
        services.AddScoped<ReleasePublisher>();
        services.AddScoped<Reproducibility.ReproducibilityService>();
        services.AddSingleton<IDemoContributor, DemoReleases>();
        services.AddSingleton<IDemoContributor, DemoPublishableRelease>();
        return services;
    }

    public static IEndpointRouteBuilder MapReleaseEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/releases/{id:long}/bundle", async (long id, ReleasePublisher publisher, CancellationToken ct) =>
        {
            var (path, name) = await publisher.GetBundleAsync(id, ct);
            return Results.File(path, "application/zip", name);
        });
        // The same rules as the page: a non-lead's approval is refused here, whatever a client sends.
        app.MapPost("/api/releases/{id:long}/approve", async (long id, HttpContext http, ReleaseSignOff signOff, CancellationToken ct) =>
        {
            await signOff.ApproveAsync(Actor.From(http.User), id, ct);
            return Results.NoContent();
        }).RequireAntiforgeryToken();
        return app;
    }
}
