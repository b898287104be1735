using Portal.Web.Features.Demo;

namespace Portal.Web.Features.Projects;

public static class ProjectsFeature
{
    public static IServiceCollection AddProjectsFeature(this IServiceCollection services)
    {
        services.AddScoped<ProjectService>();
        services.AddScoped<ProjectEditing>();
        services.AddSingleton<IDemoContributor, DemoProjects>();
        return services;
    }
}
