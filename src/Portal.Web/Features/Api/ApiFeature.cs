using Microsoft.AspNetCore.Authentication;

namespace Portal.Web.Features.Api;

public static class ApiFeature
{
    public static IServiceCollection AddApiFeature(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, ApiTokenHandler>(ApiAuth.Scheme, null);
        services.AddAuthorizationBuilder().AddPolicy(ApiAuth.Policy, policy => policy
            .AddAuthenticationSchemes(ApiAuth.Scheme)
            .RequireAuthenticatedUser()
            .RequireClaim(ApiAuth.TokenIdClaim));
        services.AddSingleton<PersonalTokenService>();
        return services;
    }
}
