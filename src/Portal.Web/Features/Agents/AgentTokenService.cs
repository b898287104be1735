using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Portal.Web.Data;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Agents;

public sealed record AgentTokenRow(long Id, string Name, string Prefix, string CreatedBy, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt, int Agents);

/// <summary>A token as created: the only time its secret is seen.</summary>
public sealed record CreatedAgentToken(long Id, string Name, string Secret);

/// <summary>Admins create and revoke agent tokens. Only the SHA-256 of a token is kept.</summary>
public sealed class AgentTokenService(IDbContextFactory<PortalDbContext> dbFactory, AgentConnections connections, LiveUpdates live, TimeProvider clock)
{
    public const int MaxNameLength = 80;

    public async Task<IReadOnlyList<AgentTokenRow>> ListAsync(Actor actor)
    {
        actor = await dbFactory.RefreshAsync(actor);
        actor.RequireAdmin("see agent tokens");
        await using var db = await dbFactory.CreateDbContextAsync();
        var rows = await (from t in db.AgentTokens
                          join u in db.Users on t.CreatedById equals u.Id into creators
                          from u in creators.DefaultIfEmpty()
                          select new { t, Creator = u == null ? "" : u.DisplayName, Agents = db.Agents.Count(a => a.TokenId == t.Id) })
            .ToListAsync();
        return rows.OrderByDescending(r => r.t.CreatedAt)
            .Select(r => new AgentTokenRow(r.t.Id, r.t.Name, r.t.Prefix, r.Creator, r.t.CreatedAt, r.t.RevokedAt, r.Agents))
            .ToList();
    }

    public async Task<CreatedAgentToken> CreateAsync(Actor actor, string name)
    {
        actor = await dbFactory.RefreshAsync(actor);
        actor.RequireAdmin("create agent tokens");
        name = (name ?? "").Trim();
        if (name.Length == 0) throw PortalError.Validation("Give the token a name, e.g. the machine or team it is for.");
        if (name.Length > MaxNameLength) throw PortalError.Validation($"A token name has at most {MaxNameLength} characters.");
        var secret = "pat_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        await using var db = await dbFactory.CreateDbContextAsync();
        var token = await AddAsync(db, name, secret, actor.UserId, clock.GetUtcNow());
        return new CreatedAgentToken(token.Id, token.Name, secret);
    }

    /// <summary>Stores a token with a given secret; the demo uses it for its configured local-agent token.</summary>
    public static async Task<AgentToken> AddAsync(PortalDbContext db, string name, string secret, string createdById, DateTimeOffset now)
    {
        var token = new AgentToken
        {
            Name = name,
            TokenHash = AgentAuth.Hash(secret),
            Prefix = secret[..Math.Min(8, secret.Length)],
            CreatedById = createdById,
            CreatedAt = now,
        };
        db.AgentTokens.Add(token);
        await db.SaveChangesAsync();
        return token;
    }

    public async Task RevokeAsync(Actor actor, long tokenId)
    {
        actor = await dbFactory.RefreshAsync(actor);
        actor.RequireAdmin("revoke agent tokens");
        await using var db = await dbFactory.CreateDbContextAsync();
        var token = await db.AgentTokens.FindAsync(tokenId) ?? throw PortalError.NotFound("That agent token does not exist.");
        if (token.RevokedAt is not null) throw PortalError.Conflict($"The token '{token.Name}' is already revoked.");
        token.RevokedAt = clock.GetUtcNow();
        await db.SaveChangesAsync();
        // A revoked token must stop working now, not at the agent's next reconnect.
        connections.AbortToken(tokenId);
        live.Publish(Topics.Agents);
    }
}
