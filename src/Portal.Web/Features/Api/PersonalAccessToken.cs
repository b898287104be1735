using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Web.Features.Account;

namespace Portal.Web.Features.Api;

/// <summary>
/// What a personal access token may do. A token never widens its user's rights: it acts with the user's current
/// roles, and a scope only narrows which endpoints it opens.
/// </summary>
[Flags]
public enum ApiScopes
{
    None = 0,
    /// <summary>Every GET: projects, tasks, runs, metrics, logs, artifacts, releases.</summary>
    Read = 1,
    /// <summary>Queue, cancel and resume runs.</summary>
    Runs = 2,
    /// <summary>Claim, unclaim, move and assign tasks.</summary>
    Tasks = 4,
    /// <summary>Choose a release's runs.</summary>
    Releases = 8,
    All = Read | Runs | Tasks | Releases,
}

/// <summary>A user's token for the /api/v1 endpoints. Only its SHA-256 is stored; the secret is shown once.</summary>
public sealed class PersonalAccessToken
{
    public const int MaxNameLength = 80;

    public long Id { get; set; }
    public string UserId { get; set; } = "";
    public string Name { get; set; } = "";
    public string TokenHash { get; set; } = "";
    /// <summary>First characters of the secret, so that its owner can tell tokens apart.</summary>
    public string Prefix { get; set; } = "";
    public ApiScopes Scopes { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
}

internal sealed class PersonalAccessTokenConfiguration : IEntityTypeConfiguration<PersonalAccessToken>
{
    public void Configure(EntityTypeBuilder<PersonalAccessToken> b)
    {
        b.HasIndex(t => t.TokenHash).IsUnique();
        b.HasIndex(t => t.UserId);
        b.Property(t => t.Name).HasMaxLength(PersonalAccessToken.MaxNameLength);
        b.HasOne<PortalUser>().WithMany().HasForeignKey(t => t.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
