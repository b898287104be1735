using Portal.Web.Features.Demo;

namespace Portal.Web.Features.Tasks;

public static class TasksFeature
{
    public static IServiceCollection AddTasksFeature(this IServiceCollection services)
    {
        services.AddScoped<TaskBoard>();
        services.AddScoped<TaskClaims>();
        services.AddScoped<TaskEditing>();
        services.AddScoped<TaskComments>();
        services.AddSingleton<IDemoContributor, DemoTasks>();
        return services;
    }
}
