using Portal.Web.Features.Demo;

namespace Portal.Web.Features.Runs;

public static class RunsFeature
{
    public static IServiceCollection AddRunsFeature(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<RunsOptions>(configuration.GetSection(RunsOptions.Section));
        services.AddSingleton<MetricWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<MetricWriter>());
        services.AddSingleton<LostRunRestarts>();
        services.AddHostedService<LostRunMonitor>();
        services.AddSingleton<MetricIngestion>();
        services.AddSingleton<RunDispatch>();
        services.AddSingleton<RunRefusals>();
        services.AddSingleton<ArtifactStore>();
        services.AddScoped<RunService>();
        services.AddSingleton<DifferentialRuns>();
        services.AddSingleton<IDemoContributor, DemoDifferentialRuns>();
        return services;
    }
}
