namespace Portal.Web.Features.Demo;

public static class DemoFeature
{
    public static IServiceCollection AddDemoFeature(this IServiceCollection services)
    {
        services.AddScoped<DemoSeeder>();
        return services;
    }
}
