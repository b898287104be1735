using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Portal.Web.Data;
using Portal.Web.Features.Account;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Admin;

public sealed record UserRow(string Id, string UserName, string DisplayName, SubTeam? SubTeam, bool IsActive, IReadOnlyList<string> Roles);

public sealed class NewUserForm
{
    public string UserName { get; set; } = "";
    public string DisplayName { get; set; } = "";
    public string Password { get; set; } = "";
    public SubTeam? SubTeam { get; set; }
    public HashSet<string> Roles { get; set; } = [Account.Roles.Member];
}

/// <summary>
/// An admin manages the team: creates accounts, deactivates them, sets roles and sub-team.
/// Each call runs in its own DI scope so Identity's UserManager never holds a circuit-long DbContext.
/// A deactivation or a role change refreshes the security stamp and ends the user's open circuits.
/// </summary>
public sealed class UserAdministration(IServiceScopeFactory scopes, IDbContextFactory<PortalDbContext> dbFactory, UserSessions sessions)
{
    public const int MaxNameLength = 100;

    public async Task<IReadOnlyList<UserRow>> ListAsync(Actor actor, CancellationToken cancellationToken = default)
    {
        actor = await dbFactory.RefreshAsync(actor, cancellationToken);
        actor.RequireAdmin("manage users");
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var roles = await (from ur in db.UserRoles join r in db.Roles on ur.RoleId equals r.Id select new { ur.UserId, r.Name })
            .ToListAsync(cancellationToken);
        var byUser = roles.ToLookup(r => r.UserId, r => r.Name!);
        var users = await db.Users.AsNoTracking().OrderBy(u => u.UserName).ToListAsync(cancellationToken);
        return users.Select(u => new UserRow(u.Id, u.UserName ?? "", u.DisplayName, u.SubTeam, u.IsActive,
            byUser[u.Id].OrderBy(r => Array.IndexOf(Roles.All, r)).ToList())).ToList();
    }

    public async Task<string> CreateAsync(Actor actor, NewUserForm form, CancellationToken cancellationToken = default)
    {
        actor = await dbFactory.RefreshAsync(actor, cancellationToken);
        actor.RequireAdmin("create users");
        var userName = form.UserName?.Trim() ?? "";
        if (userName.Length == 0) throw PortalError.Validation("A user needs a user name.", nameof(NewUserForm.UserName));
        if (userName.Length > MaxNameLength) throw PortalError.Validation($"A user name may have at most {MaxNameLength} characters.", nameof(NewUserForm.UserName));
        if (string.IsNullOrWhiteSpace(form.DisplayName)) throw PortalError.Validation("A user needs a display name.", nameof(NewUserForm.DisplayName));
        if (form.DisplayName.Length > MaxNameLength) throw PortalError.Validation($"A display name may have at most {MaxNameLength} characters.", nameof(NewUserForm.DisplayName));
        ValidateRoles(form.Roles);
        ValidateSubTeam(form.SubTeam);

        await using var scope = scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        if (await users.FindByNameAsync(userName) is not null) throw PortalError.Conflict($"The user name {userName} is taken.", nameof(NewUserForm.UserName));
        var user = new PortalUser { UserName = userName, DisplayName = form.DisplayName.Trim(), SubTeam = form.SubTeam };
        // Check the password before anything is stored, so a weak one leaves no half-made account behind.
        foreach (var validator in users.PasswordValidators)
        {
            var check = await validator.ValidateAsync(users, user, form.Password ?? "");
            if (!check.Succeeded) throw PortalError.Validation(string.Join(" ", check.Errors.Select(e => e.Description)), nameof(NewUserForm.Password));
        }
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        Ensure(await users.CreateAsync(user, form.Password!));
        Ensure(await users.AddToRolesAsync(user, form.Roles));
        await transaction.CommitAsync(cancellationToken);
        return user.Id;
    }

    public Task SetActiveAsync(Actor actor, string userId, bool active, CancellationToken cancellationToken = default) =>
        ChangeAsync(actor, userId, async (users, user) =>
        {
            if (!active && user.Id == actor.UserId) throw PortalError.Validation("You cannot deactivate your own account.");
            user.IsActive = active;
            Ensure(await users.UpdateAsync(user));
            Ensure(await users.UpdateSecurityStampAsync(user));
        });

    public Task SetRolesAsync(Actor actor, string userId, IReadOnlyCollection<string> roles, CancellationToken cancellationToken = default) =>
        ChangeAsync(actor, userId, async (users, user) =>
        {
            ValidateRoles(roles);
            if (user.Id == actor.UserId && !roles.Contains(Roles.Admin))
                throw PortalError.Validation("You cannot take the admin role from yourself; ask another admin.");
            var current = await users.GetRolesAsync(user);
            Ensure(await users.RemoveFromRolesAsync(user, current.Except(roles)));
            Ensure(await users.AddToRolesAsync(user, roles.Except(current)));
            Ensure(await users.UpdateSecurityStampAsync(user));
        });

    public Task SetSubTeamAsync(Actor actor, string userId, SubTeam? subTeam, CancellationToken cancellationToken = default) =>
        ChangeAsync(actor, userId, async (users, user) =>
        {
            ValidateSubTeam(subTeam);
            user.SubTeam = subTeam;
            Ensure(await users.UpdateAsync(user));
        });

    private async Task ChangeAsync(Actor actor, string userId, Func<UserManager<PortalUser>, PortalUser, Task> change)
    {
        actor = await dbFactory.RefreshAsync(actor);
        actor.RequireAdmin("manage users");
        await using var scope = scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        var user = await users.FindByIdAsync(userId ?? "") ?? throw PortalError.NotFound("There is no such user.");
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        await using var transaction = await db.Database.BeginTransactionAsync();
        await change(users, user);
        await transaction.CommitAsync();
        // Open pages of that user check their sign-in now, not at their next periodic revalidation.
        await sessions.EndAsync(user.Id);
    }

    private static void ValidateRoles(IReadOnlyCollection<string>? roles)
    {
        if (roles is null || roles.Count == 0) throw PortalError.Validation("A user needs at least one role.", nameof(NewUserForm.Roles));
        var unknown = roles.Except(Roles.All).ToList();
        if (unknown.Count > 0) throw PortalError.Validation($"There is no role {string.Join(", ", unknown)}.", nameof(NewUserForm.Roles));
    }

    private static void ValidateSubTeam(SubTeam? subTeam)
    {
        if (subTeam is { } t && !Enum.IsDefined(t)) throw PortalError.Validation("There is no such sub-team.", nameof(NewUserForm.SubTeam));
    }

    private static void Ensure(IdentityResult result)
    {
        if (!result.Succeeded) throw PortalError.Validation(string.Join(" ", result.Errors.Select(e => e.Description)));
    }
}

public static class AdminFeature
{
    public static IServiceCollection AddAdminFeature(this IServiceCollection services)
    {
        services.AddScoped<UserAdministration>();
        // Every request checks its cookie against the user's security stamp (one indexed read), so a deactivation,
        // a role change or a sign-out refuses an old cookie at once rather than after Identity's 30 minutes.
        services.Configure<SecurityStampValidatorOptions>(o => o.ValidationInterval = TimeSpan.Zero);
        return services;
    }
}
