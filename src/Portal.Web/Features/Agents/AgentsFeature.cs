using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.Connections;
using Portal.Contracts;
using Portal.Web.Features.Demo;
using Portal.Web.Features.Runs;

namespace Portal.Web.Features.Agents;

public static class AgentsFeature
{
    public static IServiceCollection AddAgentsFeature(this IServiceCollection services)
    {
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, AgentTokenHandler>(AgentAuth.Scheme, null);
        services.AddAuthorizationBuilder().AddPolicy(AgentAuth.Policy, policy => policy
            .AddAuthenticationSchemes(AgentAuth.Scheme)
            .RequireAuthenticatedUser()
            .RequireClaim(AgentAuth.TokenIdClaim));
        services.AddSignalR().AddHubOptions<AgentHub>(hub =>
        {
            // A full batch (AgentProtocol.MaxPointsPerBatch points) is ~125 KB in its column layout and ~300 KB from
            // agents that still send a map per point; a batch over the limit must still arrive so that it can be
            // refused with a reason instead of dropping the connection.
            hub.MaximumReceiveMessageSize = 4 * 1024 * 1024;
            hub.EnableDetailedErrors = false;
        });
        services.AddSingleton<AgentConnections>();
        services.AddSingleton<AgentSessions>();
        services.AddSingleton<AgentTokenService>();
        services.AddScoped<AgentDirectory>();
        services.AddSingleton<IAgentCalls, AgentCalls>();
        services.AddSingleton<IDemoContributor, DemoShapesProject>();
        return services;
    }

    public static void MapAgentHub(this IEndpointRouteBuilder app) =>
        app.MapHub<AgentHub>(AgentProtocol.HubPath, o => o.Transports = HttpTransportType.WebSockets | HttpTransportType.LongPolling)
            .RequireAuthorization(AgentAuth.Policy);
}
