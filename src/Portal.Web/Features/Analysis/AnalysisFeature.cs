using Portal.Web.Features.Demo;

namespace Portal.Web.Features.Analysis;

public static class AnalysisFeature
{
    public static IServiceCollection AddAnalysisFeature(this IServiceCollection services)
    {
        services.AddScoped<ChecklistService>();
        services.AddScoped<AnalysisLogService>();
        services.AddScoped<SpecificationService>();
        services.AddSingleton<IDemoContributor, DemoAnalysisAndDesign>();
        return services;
    }
}
