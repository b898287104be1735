namespace Portal.Web.Features.Defects;

public static class DefectsFeature
{
    public static IServiceCollection AddDefectsFeature(this IServiceCollection services)
    {
        services.AddScoped<DefectService>();
        services.AddScoped<DefectQueries>();
        services.AddSingleton<Demo.IDemoContributor, DemoDefects>();
        return services;
    }
}
