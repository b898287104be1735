using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Contracts;
using Portal.Web.Data;

namespace Portal.Web.Features.Agents;

/// <summary>
/// The scheme agents authenticate with: a bearer token an admin created, looked up by its SHA-256.
/// Only the agent hub and /api/agent/* ask for it; pages use the cookie scheme, so a token opens no page
/// and a signed-in user opens no agent endpoint.
/// </summary>
public static class AgentAuth
{
    public const string Scheme = "AgentToken";
    public const string Policy = "Agent";
    public const string TokenIdClaim = "portal:agent_token_id";

    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    public static long TokenId(ClaimsPrincipal user) =>
        long.TryParse(user.FindFirstValue(TokenIdClaim), out var id) ? id : throw new InvalidOperationException("Not an agent principal.");
}

public sealed class AgentTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IDbContextFactory<PortalDbContext> dbFactory) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var token = ReadToken();
        if (string.IsNullOrEmpty(token)) return AuthenticateResult.NoResult();
        if (token.Length > 512) return AuthenticateResult.Fail("The agent token is not valid.");

        var hash = AgentAuth.Hash(token);
        await using var db = await dbFactory.CreateDbContextAsync(Context.RequestAborted);
        var stored = await db.AgentTokens.AsNoTracking()
            .Where(t => t.TokenHash == hash)
            .Select(t => new { t.Id, t.Name, t.RevokedAt })
            .FirstOrDefaultAsync(Context.RequestAborted);
        if (stored is null) return AuthenticateResult.Fail("The agent token is not valid.");
        if (stored.RevokedAt is not null) return AuthenticateResult.Fail("The agent token was revoked.");

        var identity = new ClaimsIdentity(
            [new Claim(AgentAuth.TokenIdClaim, stored.Id.ToString()), new Claim(ClaimTypes.Name, $"agent token {stored.Name}")],
            AgentAuth.Scheme);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), AgentAuth.Scheme));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        var reason = result.Failure?.Message ?? "An agent token is required.";
        await Response.WriteAsync(reason);
    }

    private string? ReadToken()
    {
        string? header = Request.Headers.Authorization;
        if (header is not null && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return header["Bearer ".Length..].Trim();
        // Browsers' WebSocket API cannot send headers, so SignalR puts the token in the query string; only the hub takes it there.
        if (Request.Path.StartsWithSegments(AgentProtocol.HubPath))
            return Request.Query["access_token"];
        return null;
    }
}
