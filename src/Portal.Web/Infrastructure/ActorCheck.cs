using Microsoft.EntityFrameworkCore;
using Portal.Web.Data;

namespace Portal.Web.Infrastructure;

/// <summary>
/// An <see cref="Actor"/> built from a principal is a snapshot: a circuit keeps it for as long as the page is open.
/// Every change therefore re-reads the acting user's active flag and roles from the database before it authorizes.
/// </summary>
public static class ActorCheck
{
    public static async Task<Actor> RefreshAsync(this IDbContextFactory<PortalDbContext> dbFactory, Actor actor,
        CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var user = await db.Users.AsNoTracking().Where(u => u.Id == actor.UserId)
            .Select(u => new { u.DisplayName, u.IsActive }).FirstOrDefaultAsync(cancellationToken);
        if (user is not { IsActive: true })
            throw PortalError.Forbidden("Your account is deactivated or no longer exists; sign in again.");
        var roles = await (from ur in db.UserRoles join r in db.Roles on ur.RoleId equals r.Id
                           where ur.UserId == actor.UserId select r.Name!).ToListAsync(cancellationToken);
        return actor with { DisplayName = user.DisplayName.Length > 0 ? user.DisplayName : actor.DisplayName, Roles = roles.ToHashSet() };
    }

    /// <summary>
    /// For services whose checks already hold the actor: refuses unless the user is still active and still holds every
    /// role the actor claims. Roles gained since only make those checks stricter, so they need no refusal.
    /// </summary>
    public static async Task RequireCurrentAsync(this IDbContextFactory<PortalDbContext> dbFactory, Actor actor,
        CancellationToken cancellationToken = default)
    {
        var current = await dbFactory.RefreshAsync(actor, cancellationToken);
        if (!actor.Roles.All(current.Roles.Contains))
            throw PortalError.Forbidden("Your roles have changed since this page was opened; reload it.");
    }
}
