using System.Net;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.HttpOverrides;

namespace Portal.Web.Infrastructure;

/// <summary>
/// What a deployment behind a TLS proxy and a browser need from the request pipeline: forwarded headers from known
/// proxies only, cookies marked Secure when the original request was HTTPS, a script policy, same-origin hubs.
/// </summary>
public static class PortalSecurity
{
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; " +
        "connect-src 'self'; object-src 'none'; frame-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>
    /// X-Forwarded-For/-Proto/-Host are honoured only from loopback and the addresses listed under
    /// Portal:KnownProxies (e.g. ["10.0.0.5"]) and Portal:KnownNetworks (e.g. ["10.0.0.0/24"]).
    /// </summary>
    public static IServiceCollection AddPortalSecurity(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<ForwardedHeadersOptions>(o =>
        {
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost;
            foreach (var address in configuration.GetSection("Portal:KnownProxies").Get<string[]>() ?? [])
                o.KnownProxies.Add(IPAddress.Parse(address));
            foreach (var network in configuration.GetSection("Portal:KnownNetworks").Get<string[]>() ?? [])
                o.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
        });
        return services;
    }

    public static IApplicationBuilder UsePortalSecurity(this IApplicationBuilder app)
    {
        app.UseForwardedHeaders();
        app.Use(async (context, next) =>
        {
            var headers = context.Response.Headers;
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "same-origin";
            if (IsCrossOriginHubRequest(context.Request))
            {
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                return;
            }
            await next();
        });
        return app;
    }

    /// <summary>
    /// Browsers send cookies with a cross-site WebSocket, so a page on another site could open a signed-in user's
    /// hub connection. The cookie-authenticated hubs accept only their own origin; the agents' hub uses a bearer
    /// token that no other site holds, and agents send no Origin.
    /// </summary>
    private static bool IsCrossOriginHubRequest(HttpRequest request)
    {
        if (!request.Path.StartsWithSegments("/hubs") || request.Path.StartsWithSegments(Portal.Contracts.AgentProtocol.HubPath)) return false;
        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0) return false;
        return !Uri.TryCreate(origin, UriKind.Absolute, out var uri)
               || !string.Equals(uri.Scheme, request.Scheme, StringComparison.OrdinalIgnoreCase)
               || !string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Refuses a post without a valid antiforgery token, for endpoints that bind no form.</summary>
    public static RouteHandlerBuilder RequireAntiforgeryToken(this RouteHandlerBuilder endpoint) =>
        endpoint.AddEndpointFilter(async (context, next) =>
        {
            var antiforgery = context.HttpContext.RequestServices.GetRequiredService<IAntiforgery>();
            if (!await antiforgery.IsRequestValidAsync(context.HttpContext))
                return Results.Problem("The request has no valid antiforgery token.", statusCode: StatusCodes.Status400BadRequest);
            return await next(context);
        });
}
