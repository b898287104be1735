using Portal.Web.Features.Demo;

namespace Portal.Web.Features.Runs;

public static class RunsFeature
{
    public static IServiceCollection AddRunsFeature(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RunsOptions>().Bind(configuration.GetSection(RunsOptions.Section))
            .Validate(o => o.PostgresWriterLanes is >= 1 and <= 16, $"{RunsOptions.Section}:PostgresWriterLanes must be between 1 and 16.")
            .ValidateOnStart();
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
