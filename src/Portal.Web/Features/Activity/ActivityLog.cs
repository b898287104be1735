using Microsoft.EntityFrameworkCore;
using Portal.Web.Data;
using Portal.Web.Features.Projects;

namespace Portal.Web.Features.Activity;

/// <summary>
/// Records who did what in a project. Features call <see cref="Add"/> inside their own unit of work, so an entry
/// is saved together with the change it describes, or not at all.
/// </summary>
public sealed class ActivityLog(TimeProvider clock)
{
    public const int MaxTextLength = 500;

    /// <summary>Adds an entry to <paramref name="db"/>; the caller saves (and publishes <c>Topics.Project</c>).</summary>
    /// <param name="link">Where the entry's subject is (see <see cref="ActivityLinks"/>); null when it names nothing with a page.</param>
    public void Add(PortalDbContext db, long projectId, string userId, string text, string? link = null)
    {
        var trimmed = text.Length <= MaxTextLength ? text : text[..(MaxTextLength - 1)] + "…";
        db.Activity.Add(new ActivityEntry
        {
            ProjectId = projectId, UserId = userId, Text = trimmed, Link = link is { Length: <= ActivityLinks.MaxLength } ? link : null, At = clock.GetUtcNow(),
        });
    }
}

public sealed record ActivityItem(long Id, DateTimeOffset At, string UserName, string Text, string? Link = null);

/// <summary>Reading a project's activity feed, newest first.</summary>
public sealed class ActivityFeed(IDbContextFactory<PortalDbContext> dbFactory)
{
    public async Task<IReadOnlyList<ActivityItem>> ListAsync(long projectId, int take = 200, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, cancellationToken))
            throw Infrastructure.PortalError.NotFound($"There is no project {projectId}.");
        return await (
                from a in db.Activity
                where a.ProjectId == projectId
                join u in db.Users on a.UserId equals u.Id into users
                from u in users.DefaultIfEmpty()
                orderby a.At descending, a.Id descending
                select new ActivityItem(a.Id, a.At, u == null ? "(removed user)" : u.DisplayName, a.Text, a.Link))
            .Take(Math.Clamp(take, 1, 1000))
            .ToListAsync(cancellationToken);
    }
}

public static class ActivityFeature
{
    public static IServiceCollection AddActivityFeature(this IServiceCollection services)
    {
        services.AddSingleton<ActivityLog>();
        services.AddScoped<ActivityFeed>();
        return services;
    }
}
