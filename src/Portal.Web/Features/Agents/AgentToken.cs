namespace Portal.Web.Features.Agents;

/// <summary>A secret an admin creates for agents; only its hash is stored and it is shown once.</summary>
public sealed class AgentToken
{
    public long Id { get; set; }
    public string Name { get; set; } = "";
    public string TokenHash { get; set; } = "";
    /// <summary>First characters of the token, so an admin can tell tokens apart.</summary>
    public string Prefix { get; set; } = "";
    public string CreatedById { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
}
