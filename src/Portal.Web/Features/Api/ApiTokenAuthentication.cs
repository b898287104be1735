using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Web.Data;
using Portal.Web.Features.Agents;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Api;

/// <summary>
/// The scheme /api/v1 authenticates with: <c>Authorization: Bearer ptk_…</c>, a user's personal access token looked up
/// by its SHA-256. Only the /api/v1 group asks for it, so a token opens no page, hub or agent endpoint. The user's
/// active flag and roles are read from the database on every request, so a deactivated user's token stops at once
/// and a role taken away is gone from the next call.
/// </summary>
public static class ApiAuth
{
    public const string Scheme = "ApiToken";
    public const string Policy = "Api";
    public const string TokenIdClaim = "portal:api_token_id";
    public const string ScopesClaim = "portal:api_scopes";

    public static ApiScopes Scopes(ClaimsPrincipal user) =>
        int.TryParse(user.FindFirstValue(ScopesClaim), out var s) ? (ApiScopes)s : ApiScopes.None;

    public static string? TokenId(ClaimsPrincipal user) => user.FindFirstValue(TokenIdClaim);
}

public sealed class ApiTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IDbContextFactory<PortalDbContext> dbFactory,
    TimeProvider clock,
    IProblemDetailsService problems) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (header is null || !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return AuthenticateResult.NoResult();
        var token = header["Bearer ".Length..].Trim();
        if (token.Length is 0 or > 512) return AuthenticateResult.Fail("The access token is not valid.");

        var hash = AgentAuth.Hash(token);
        await using var db = await dbFactory.CreateDbContextAsync(Context.RequestAborted);
        var stored = await db.PersonalAccessTokens.AsNoTracking().Where(t => t.TokenHash == hash)
            .Select(t => new { t.Id, t.UserId, t.Scopes, t.ExpiresAt, t.RevokedAt }).FirstOrDefaultAsync(Context.RequestAborted);
        if (stored is null) return AuthenticateResult.Fail("The access token is not valid.");
        if (stored.RevokedAt is not null) return AuthenticateResult.Fail("The access token was revoked.");
        if (stored.ExpiresAt <= clock.GetUtcNow()) return AuthenticateResult.Fail($"The access token expired at {stored.ExpiresAt:yyyy-MM-dd HH:mm} UTC.");

        Actor actor;
        try
        {
            actor = await dbFactory.RefreshAsync(new Actor(stored.UserId, "", new HashSet<string>()), Context.RequestAborted);
        }
        catch (PortalError)
        {
            return AuthenticateResult.Fail("The access token's user is deactivated or no longer exists.");
        }
        List<Claim> claims =
        [
            new(ClaimTypes.NameIdentifier, actor.UserId), new(ClaimTypes.Name, actor.DisplayName), new(PortalClaims.DisplayName, actor.DisplayName),
            new(ApiAuth.TokenIdClaim, stored.Id.ToString()), new(ApiAuth.ScopesClaim, ((int)stored.Scopes).ToString()),
            .. actor.Roles.Select(r => new Claim(ClaimTypes.Role, r)),
        ];
        var identity = new ClaimsIdentity(claims, ApiAuth.Scheme);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), ApiAuth.Scheme));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails =
            {
                Status = StatusCodes.Status401Unauthorized,
                Title = result.Failure?.Message ?? "An access token is required: send 'Authorization: Bearer <token>'. Create one on your account page.",
            },
        });
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        var scope = Context.GetEndpoint()?.Metadata.GetMetadata<ApiScopeMetadata>()?.Scope;
        var title = scope is { } s && (ApiAuth.Scopes(Context.User) & s) == 0
            ? $"This token lacks the '{s.ToString().ToLowerInvariant()}' scope. Create a token with it on your account page."
            : "The access token may not do this.";
        Response.StatusCode = StatusCodes.Status403Forbidden;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = { Status = StatusCodes.Status403Forbidden, Title = title },
        });
    }
}
