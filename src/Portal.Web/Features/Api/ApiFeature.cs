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
            var window = new FixedWindowRateLimiterOptions
            {
                PermitLimit = Math.Max(1, options.RequestsPerMinute),
                Window = TimeSpan.FromMinutes(1),
                QueueLimit = 0,
            };
            limiter.AddPolicy(ApiEndpoints.RateLimitPolicy, http =>
            {
                // Authorization ran before the limiter, so the user is the token's; each token has its own window.
                var tokenId = ApiAuth.TokenId(http.User) ?? "anonymous";
                // With Redis (several instances) the window is counted there, so the limit holds across instances;
                // the user id (a GUID) keeps tokens of different databases on one Redis apart.
                var redis = http.RequestServices.GetService<StackExchange.Redis.IConnectionMultiplexer>();
                if (redis is null) return RateLimitPartition.GetFixedWindowLimiter(tokenId, _ => window);
                var key = $"portal:api-rate:{http.User.FindFirst(System.Security.Claims.ClaimTypes.NameIdentifier)?.Value}:{tokenId}";
                return RateLimitPartition.Get(key, k =>
                    new SharedFixedWindowLimiter(redis, k, window.PermitLimit, window.Window, new FixedWindowRateLimiter(window)));
            });
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
                                            "Reads carry an ETag; a change of an existing task, run or release needs If-Match with it " +
                                            "(428 without, 412 when stale, and nothing is changed).";
                return Task.CompletedTask;
            });
            openApi.AddOperationTransformer((operation, context, _) =>
            {
                var scope = context.Description.ActionDescriptor.EndpointMetadata.OfType<ApiScopeMetadata>().FirstOrDefault();
                if (scope is not null)
                    operation.Description = $"Token scope: {scope.Scope.ToString().ToLowerInvariant()}." +
                                            (string.IsNullOrEmpty(operation.Description) ? "" : " " + operation.Description);
                var ifMatch = context.Description.ActionDescriptor.EndpointMetadata.OfType<ApiIfMatchMetadata>().FirstOrDefault();
                if (ifMatch is not null)
                {
                    operation.Parameters ??= [];
                    operation.Parameters.Add(new Microsoft.OpenApi.OpenApiParameter
                    {
                        Name = "If-Match",
                        In = Microsoft.OpenApi.ParameterLocation.Header,
                        Required = true,
                        Description = $"The ETag of GET {ifMatch.ResourcePattern} as last read; 428 without it, 412 when it is stale.",
                        Schema = new Microsoft.OpenApi.OpenApiSchema { Type = Microsoft.OpenApi.JsonSchemaType.String },
                    });
                }
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
