namespace Portal.Web.Features.Design;

public static class DesignFeature
{
    public static IServiceCollection AddDesignFeature(this IServiceCollection services)
    {
        services.AddScoped<DesignDocumentService>();
        services.AddScoped<DesignReviewService>();
        return services;
    }
}
