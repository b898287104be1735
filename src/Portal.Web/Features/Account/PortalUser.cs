using Microsoft.AspNetCore.Identity;

namespace Portal.Web.Features.Account;

public sealed class PortalUser : IdentityUser
{
    public string DisplayName { get; set; } = "";

    /// <summary>The sub-team the user works in; null for the technical lead, mentors and admins.</summary>
    public SubTeam? SubTeam { get; set; }

    public bool IsActive { get; set; } = true;
}

public enum SubTeam { Modeling, Loss, DataPipeline, DevOps }

public static class Roles
{
    public const string Member = "Member";
    public const string Lead = "Lead";
    public const string Mentor = "Mentor";
    public const string Admin = "Admin";

    public static readonly string[] All = [Member, Lead, Mentor, Admin];
}
