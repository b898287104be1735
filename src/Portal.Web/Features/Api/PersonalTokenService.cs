using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Portal.Web.Data;
using Portal.Web.Features.Agents;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Api;

public sealed record PersonalTokenRow(long Id, string Name, string Prefix, ApiScopes Scopes, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, DateTimeOffset? RevokedAt);

/// <summary>A token as created: the only time its secret is seen.</summary>
public sealed record CreatedPersonalToken(long Id, string Name, string Secret, ApiScopes Scopes, DateTimeOffset ExpiresAt);

/// <summary>
/// Every active user creates and revokes their own API tokens; nobody sees or revokes another user's. Secrets are
/// stored as SHA-256, the same way as agent tokens.
/// </summary>
public sealed class PersonalTokenService(IDbContextFactory<PortalDbContext> dbFactory, TimeProvider clock)
{
    public const string SecretPrefix = "ptk_";
    public const int MaxDays = 366;
    public const int MaxActiveTokens = 20;

    public async Task<IReadOnlyList<PersonalTokenRow>> ListAsync(Actor actor, CancellationToken ct = default)
    {
        actor = await dbFactory.RefreshAsync(actor, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var tokens = await db.PersonalAccessTokens.AsNoTracking().Where(t => t.UserId == actor.UserId).ToListAsync(ct);
        return tokens.OrderByDescending(t => t.CreatedAt).ThenByDescending(t => t.Id)
            .Select(t => new PersonalTokenRow(t.Id, t.Name, t.Prefix, t.Scopes, t.CreatedAt, t.ExpiresAt, t.RevokedAt)).ToList();
    }

    public async Task<CreatedPersonalToken> CreateAsync(Actor actor, string name, ApiScopes scopes, int days, CancellationToken ct = default)
    {
        actor = await dbFactory.RefreshAsync(actor, ct);
        name = (name ?? "").Trim();
        if (name.Length == 0) throw PortalError.Validation("Give the token a name, e.g. the script or CI job it is for.");
        if (name.Length > PersonalAccessToken.MaxNameLength)
            throw PortalError.Validation($"A token name has at most {PersonalAccessToken.MaxNameLength} characters.");
        if (scopes == ApiScopes.None) throw PortalError.Validation("Choose at least one scope: read, runs, tasks or releases.");
        if ((scopes & ~ApiScopes.All) != 0) throw PortalError.Validation("A token's scopes are read, runs, tasks and releases.");
        if (days is < 1 or > MaxDays) throw PortalError.Validation($"A token expires after 1 to {MaxDays} days.");

        var now = clock.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var active = await db.PersonalAccessTokens.Where(t => t.UserId == actor.UserId && t.RevokedAt == null)
            .Select(t => t.ExpiresAt).ToListAsync(ct);
        if (active.Count(e => e > now) >= MaxActiveTokens)
            throw PortalError.Conflict($"You already have {MaxActiveTokens} active tokens; revoke one first.");

        var secret = SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var token = new PersonalAccessToken
        {
            UserId = actor.UserId,
            Name = name,
            TokenHash = AgentAuth.Hash(secret),
            Prefix = secret[..(SecretPrefix.Length + 4)],
            Scopes = scopes,
            CreatedAt = now,
            ExpiresAt = now.AddDays(days),
        };
        db.PersonalAccessTokens.Add(token);
        await db.SaveChangesAsync(ct);
        return new CreatedPersonalToken(token.Id, token.Name, secret, scopes, token.ExpiresAt);
    }

    public async Task RevokeAsync(Actor actor, long tokenId, CancellationToken ct = default)
    {
        actor = await dbFactory.RefreshAsync(actor, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        // Another user's token reads as missing: its existence is not the caller's business.
        var token = await db.PersonalAccessTokens.FirstOrDefaultAsync(t => t.Id == tokenId && t.UserId == actor.UserId, ct)
                    ?? throw PortalError.NotFound("You have no such token.");
        if (token.RevokedAt is not null) throw PortalError.Conflict($"The token '{token.Name}' is already revoked.");
        token.RevokedAt = clock.GetUtcNow();
        await db.SaveChangesAsync(ct);
    }
}
