using System.Security.Claims;
using Portal.Web.Features.Account;

namespace Portal.Web.Infrastructure;

/// <summary>Who is acting: services authorize every change against this, whatever the UI showed.</summary>
public sealed record Actor(string UserId, string DisplayName, IReadOnlySet<string> Roles)
{
    public bool IsLead => Roles.Contains(Features.Account.Roles.Lead);
    public bool IsMentor => Roles.Contains(Features.Account.Roles.Mentor);
    public bool IsAdmin => Roles.Contains(Features.Account.Roles.Admin);
    public bool IsMember => Roles.Contains(Features.Account.Roles.Member);

    public static Actor From(ClaimsPrincipal user)
    {
        var id = user.FindFirstValue(ClaimTypes.NameIdentifier)
                 ?? throw PortalError.Forbidden("Sign in first.");
        var roles = user.FindAll(ClaimTypes.Role).Select(c => c.Value).ToHashSet();
        return new Actor(id, user.FindFirstValue(PortalClaims.DisplayName) ?? user.Identity?.Name ?? id, roles);
    }

    public void RequireLead(string action)
    {
        if (!IsLead) throw PortalError.Forbidden($"Only a lead can {action}.");
    }

    public void RequireAdmin(string action)
    {
        if (!IsAdmin) throw PortalError.Forbidden($"Only an admin can {action}.");
    }
}

public static class PortalClaims
{
    public const string DisplayName = "portal:display_name";
}
