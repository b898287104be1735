namespace Portal.Web.Features.Inbox;

public static class InboxFeature
{
    public static IServiceCollection AddInboxFeature(this IServiceCollection services)
    {
        services.AddScoped<InboxService>();
        return services;
    }
}
