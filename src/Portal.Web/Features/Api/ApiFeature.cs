using System.Globalization;
using System.Text.Json.Serialization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.RateLimiting;

namespace Portal.Web.Features.Api;

public sealed class ApiOptions
{
    public const string Section = "Portal:Api";

    /// <summary>Requests one token may make per minute before it is answered 429 with Retry-After.</summary>
    public int RequestsPerMinute { get; set; } = 300;
}

public static class ApiFeature
{
    public const string DocumentName = "v1";
    public const string DocumentPath = "/openapi/v1.json";

    public static IServiceCollection AddApiFeature(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, ApiTokenHandler>(ApiAuth.Scheme, null);
        services.AddAuthorizationBuilder().AddPolicy(ApiAuth.Policy, policy => policy
            .AddAuthenticationSchemes(ApiAuth.Scheme)
            .RequireAuthenticatedUser()
            .RequireClaim(ApiAuth.TokenIdClaim));
        services.AddSingleton<PersonalTokenService>();
        services.AddScoped<ApiReference>();

        // Enums travel by name (and the OpenAPI document lists the names), and a request the framework cannot bind
        // (a wrong type, an unknown JSON field) throws, so the error handler can answer with problem details that say why.
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);

        var options = configuration.GetSection(ApiOptions.Section).Get<ApiOptions>() ?? new ApiOptions();
        services.AddRateLimiter(limiter =>
        {
            limiter.AddPolicy(ApiEndpoints.RateLimitPolicy, http =>
                // Authorization ran before the limiter, so the user is the token's; each token has its own window.
                RateLimitPartition.GetFixedWindowLimiter(ApiAuth.TokenId(http.User) ?? "anonymous", _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = Math.Max(1, options.RequestsPerMinute),
                    Window = TimeSpan.FromMinutes(1),
                    QueueLimit = 0,
                }));
            limiter.OnRejected = async (context, ct) =>
            {
                var http = context.HttpContext;
                var seconds = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)) : 60;
                http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = http,
                    ProblemDetails =
                    {
                        Status = StatusCodes.Status429TooManyRequests,
                        Title = $"This token made more than {options.RequestsPerMinute} requests in a minute; retry after {seconds} s.",
                    },
                });
            };
        });

        services.AddOpenApi(DocumentName, openApi =>
        {
            openApi.ShouldInclude = description => ("/" + description.RelativePath).StartsWith(ApiEndpoints.Prefix + "/", StringComparison.Ordinal)
                                                   || ("/" + description.RelativePath) == ApiEndpoints.Prefix;
            openApi.AddDocumentTransformer((document, _, _) =>
            {
                document.Info.Title = "Portal API";
                document.Info.Version = "v1";
                document.Info.Description = "Projects, tasks, runs and releases of the portal. Authenticate with a personal access token " +
                                            "from your account page: 'Authorization: Bearer <token>'. Errors are application/problem+json. " +
                                            "Reads carry an ETag; changes accept If-Match and answer 412 when it is stale.";
                return Task.CompletedTask;
            });
            openApi.AddOperationTransformer((operation, context, _) =>
            {
                var scope = context.Description.ActionDescriptor.EndpointMetadata.OfType<ApiScopeMetadata>().FirstOrDefault();
                if (scope is not null)
                    operation.Description = $"Token scope: {scope.Scope.ToString().ToLowerInvariant()}." +
                                            (string.IsNullOrEmpty(operation.Description) ? "" : " " + operation.Description);
                return Task.CompletedTask;
            });
        });
        return services;
    }

    public static IEndpointRouteBuilder MapApi(this IEndpointRouteBuilder app)
    {
        app.MapApiEndpoints();
        // The description of the API is no secret: tools and CI fetch it without a token.
        app.MapOpenApi("/openapi/{documentName}.json").AllowAnonymous();
        return app;
    }
}
