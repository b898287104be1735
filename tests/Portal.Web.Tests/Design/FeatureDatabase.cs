using Microsoft.AspNetCore.Identity;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Portal.Web.Data;
using Portal.Web.Features.Account;
using Portal.Web.Features.Inbox;
using Portal.Web.Features.Projects;
using Portal.Web.Infrastructure;

namespace Portal.Web.Tests.Design;

/// <summary>
/// A real SQLite database in memory (kept alive by one open connection) with the portal's schema, plus the
/// singletons feature services need: live updates, the inbox notifier and a clock the test moves.
/// </summary>
public sealed class FeatureDatabase : IDbContextFactory<PortalDbContext>, IDisposable
{
    private readonly SqliteConnection _connection = new("Data Source=:memory:");
    private readonly DbContextOptions<PortalDbContext> _options;

    public ManualClock Clock { get; } = new();
    public LiveUpdates Live { get; } = new(NullLogger<LiveUpdates>.Instance);
    public InboxNotifier Inbox { get; }
    public MarkdownRenderer Markdown { get; } = new();

    public FeatureDatabase()
    {
        _connection.Open();
        _options = new DbContextOptionsBuilder<PortalDbContext>().UseSqlite(_connection).Options;
        using var db = CreateDbContext();
        db.Database.EnsureCreated();
        foreach (var role in Roles.All) db.Roles.Add(new IdentityRole(role) { NormalizedName = role.ToUpperInvariant() });
        db.SaveChanges();
        Inbox = new InboxNotifier(Live, Clock);
    }

    public PortalDbContext CreateDbContext() => new(_options);

    public async Task<Actor> AddUserAsync(string userName, params string[] roles)
    {
        await using var db = CreateDbContext();
        var user = new PortalUser { UserName = userName, NormalizedUserName = userName.ToUpperInvariant(), DisplayName = $"{userName} (test)" };
        db.Users.Add(user);
        foreach (var role in roles)
            db.UserRoles.Add(new IdentityUserRole<string> { UserId = user.Id, RoleId = (await db.Roles.SingleAsync(r => r.Name == role)).Id });
        await db.SaveChangesAsync();
        return new Actor(user.Id, user.DisplayName, roles.ToHashSet());
    }

    public async Task<long> AddProjectAsync(string name = "YOLOv4")
    {
        await using var db = CreateDbContext();
        var project = new Project { Name = name, CreatedAt = Clock.GetUtcNow() };
        db.Projects.Add(project);
        await db.SaveChangesAsync();
        return project.Id;
    }

    public async Task<T> QueryAsync<T>(Func<PortalDbContext, Task<T>> query)
    {
        await using var db = CreateDbContext();
        return await query(db);
    }

    public void Dispose() => _connection.Dispose();
}

/// <summary>A clock that only moves when the test says so.</summary>
public sealed class ManualClock : TimeProvider
{
    private DateTimeOffset _now = new(2026, 11, 1, 9, 0, 0, TimeSpan.Zero);
    public override DateTimeOffset GetUtcNow() => _now;
    public void Advance(TimeSpan by) => _now += by;
}
