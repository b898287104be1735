using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Portal.Web.Data;
using Portal.Web.Features.Account;

namespace Portal.Web.Features.Demo;

/// <summary>
/// A feature's share of the demo data. Contributors run in <see cref="Order"/> after the demo team exists,
/// once, on an empty database.
/// </summary>
public interface IDemoContributor
{
    int Order { get; }
    Task ContributeAsync(PortalDbContext db, DemoTeam team, CancellationToken cancellationToken);
}

/// <summary>The demo people by user name, for contributors that assign work or start runs.</summary>
public sealed record DemoTeam(IReadOnlyDictionary<string, PortalUser> Users)
{
    public PortalUser this[string userName] => Users[userName];
}

public sealed class DemoSeeder(
    IDbContextFactory<PortalDbContext> dbFactory,
    UserManager<PortalUser> users,
    RoleManager<IdentityRole> roles,
    IEnumerable<IDemoContributor> contributors,
    ILogger<DemoSeeder> logger)
{
    public const string Password = "Demo!2026";

    public async Task SeedIfEmptyAsync(CancellationToken cancellationToken)
    {
        await using (var check = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            if (await check.Users.AnyAsync(cancellationToken) || await check.Projects.AnyAsync(cancellationToken))
                return;
        }

        foreach (var role in Roles.All)
            if (!await roles.RoleExistsAsync(role))
                await roles.CreateAsync(new IdentityRole(role));

        var team = new Dictionary<string, PortalUser>();
        foreach (var person in DemoPeople.All)
        {
            var user = new PortalUser { UserName = person.UserName, DisplayName = person.DisplayName, SubTeam = person.SubTeam, Email = person.UserName + DemoCredentials.EmailDomain };
            var created = await users.CreateAsync(user, Password);
            if (!created.Succeeded)
                throw new InvalidOperationException($"Demo user {person.UserName}: {string.Join("; ", created.Errors.Select(e => e.Description))}");
            await users.AddToRolesAsync(user, person.Roles);
            team[person.UserName] = user;
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        foreach (var contributor in contributors.OrderBy(c => c.Order))
        {
            await contributor.ContributeAsync(db, new DemoTeam(team), cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }
        logger.LogInformation("Demo data created: {People} people", team.Count);
    }
}

public sealed record DemoPerson(string UserName, string DisplayName, SubTeam? SubTeam, params string[] Roles);

/// <summary>The 26-person team of the reference case: a technical lead, four sub-team leads, mentors and members.</summary>
public static class DemoPeople
{
    private static readonly string[] MemberNames =
    [
        "Amir Haddad", "Bea Lindqvist", "Chen Wei", "Dana Okafor", "Eli Novak", "Farah Siddiqui",
        "Gus Moreau", "Hana Sato", "Ivan Petrov", "Jade Nguyen", "Kofi Mensah", "Lea Brunner",
        "Mateo Ruiz", "Nia Adeyemi", "Omar Farouk", "Priya Raman", "Quinn Walsh", "Rosa Costa",
    ];

    private static readonly SubTeam[] MemberTeams = [SubTeam.Modeling, SubTeam.Loss, SubTeam.DataPipeline, SubTeam.DevOps];

    public static readonly IReadOnlyList<DemoPerson> All =
    [
        new("techlead", "Tomás Lee (technical lead)", null, Roles.Lead, Roles.Admin),
        new("lead.modeling", "Maya Ortiz (Modeling lead)", SubTeam.Modeling, Roles.Lead),
        new("lead.loss", "Lars Berg (Loss lead)", SubTeam.Loss, Roles.Lead),
        new("lead.data", "Dara Kim (Data pipeline lead)", SubTeam.DataPipeline, Roles.Lead),
        new("lead.devops", "Devi Rao (DevOps lead)", SubTeam.DevOps, Roles.Lead),
        new("mentor1", "Prof. Miriam Stone (mentor)", null, Roles.Mentor),
        new("mentor2", "Gary Field (garden engineer, mentor)", null, Roles.Mentor),
        new("mentor3", "Nora Quist (garden engineer, mentor)", null, Roles.Mentor),
        .. MemberNames.Select((name, i) => new DemoPerson($"member{i + 1}", name, MemberTeams[i % 4], Roles.Member)),
    ];
}
