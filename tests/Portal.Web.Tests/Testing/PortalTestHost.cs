using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Portal.Web.Data;
using Portal.Web.Features.Account;
using Portal.Web.Features.Inbox;
using Portal.Web.Features.Projects;
using Portal.Web.Infrastructure;

namespace Portal.Web.Tests.Testing;

/// <summary>
/// The portal's own service registrations (<c>AddPortal</c> and every feature's <c>Add...Feature</c>) over a
/// migrated SQLite file in a fresh temp folder, without a server; or, when the environment variable
/// PORTAL_TEST_DATABASE is "postgres", over a fresh migrated database of the test run's private PostgreSQL server. Only the clock and who is signed in are the
/// test's: <see cref="ActAs"/> is the one way to be a user, for services (the returned <see cref="Actor"/>)
/// and for components (<see cref="Authentication"/>). Services are resolved in one scope, as in one circuit.
/// </summary>
public class PortalTestHost : IDbContextFactory<PortalDbContext>, IAsyncDisposable, IDisposable
{
    private readonly WebApplication _app;
    private readonly AsyncServiceScope _scope;

    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "portal-host-tests", Guid.NewGuid().ToString("N"));
    public SignedInUser Authentication { get; } = new();
    public SqlCommandCounter Sql { get; } = new();
    public TimeProvider Clock { get; }

    /// <summary>The PostgreSQL database of this host, when the tests run on PostgreSQL.</summary>
    public string? PostgresConnection { get; }

    /// <summary>Services of the one scope the test acts in.</summary>
    public IServiceProvider Services => _scope.ServiceProvider;
    public IDbContextFactory<PortalDbContext> DbFactory { get; }
    public LiveUpdates Live => Get<LiveUpdates>();
    public InboxNotifier Inbox => Get<InboxNotifier>();
    public MarkdownRenderer Markdown => Get<MarkdownRenderer>();

    public PortalTestHost(TimeProvider? clock = null)
    {
        Clock = clock ?? TimeProvider.System;
        Directory.CreateDirectory(DataDirectory);
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Development" });
        builder.Configuration["Portal:DataDirectory"] = DataDirectory;
        builder.Configuration["Portal:Demo"] = "false";
        if (Portal.Testing.TestServers.PostgresRequested)
        {
            PostgresConnection = Portal.Testing.TestServers.Postgres.CreateDatabase();
            builder.Configuration["Portal:Postgres"] = PostgresConnection;
        }
        builder.AddPortal();
        builder.Services.Replace(ServiceDescriptor.Singleton(Clock));
        builder.Services.Replace(ServiceDescriptor.Scoped<AuthenticationStateProvider>(_ => Authentication));
        builder.Services.ConfigureDbContext<PortalDbContext>(db => db.AddInterceptors(Sql));
        // Not started: no hosted service runs. The schema comes from the same migrations as at start-up.
        _app = builder.Build();
        DbFactory = _app.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>();
        PortalDatabase.InitializeAsync(DbFactory).GetAwaiter().GetResult();
        using (var db = CreateDbContext())
        {
            foreach (var role in Roles.All) db.Roles.Add(new IdentityRole(role) { NormalizedName = role.ToUpperInvariant() });
            db.SaveChanges();
        }
        _scope = _app.Services.CreateAsyncScope();
    }

    public T Get<T>() where T : notnull => Services.GetRequiredService<T>();

    public PortalDbContext CreateDbContext() => DbFactory.CreateDbContext();

    /// <summary>Signs <paramref name="actor"/> in for components; services take the actor itself.</summary>
    public Actor ActAs(Actor actor)
    {
        Claim[] claims = [new(ClaimTypes.NameIdentifier, actor.UserId), new(ClaimTypes.Name, actor.DisplayName), new(PortalClaims.DisplayName, actor.DisplayName),
            .. actor.Roles.Select(r => new Claim(ClaimTypes.Role, r))];
        Authentication.User = new ClaimsPrincipal(new ClaimsIdentity(claims, "test"));
        return actor;
    }

    /// <summary>A stored user with these roles, and the actor they act as.</summary>
    public async Task<Actor> AddUserAsync(string userName, IReadOnlyCollection<string> roles, string? displayName = null, SubTeam? team = null, string? id = null)
    {
        await using var db = CreateDbContext();
        var user = new PortalUser
        {
            UserName = userName, NormalizedUserName = userName.ToUpperInvariant(), DisplayName = displayName ?? $"{userName} (test)", SubTeam = team,
        };
        if (id is not null) user.Id = id;
        db.Users.Add(user);
        foreach (var role in roles)
            db.UserRoles.Add(new IdentityUserRole<string> { UserId = user.Id, RoleId = (await db.Roles.SingleAsync(r => r.Name == role)).Id });
        await db.SaveChangesAsync();
        return new Actor(user.Id, user.DisplayName, roles.ToHashSet());
    }

    public async Task<T> QueryAsync<T>(Func<PortalDbContext, Task<T>> query)
    {
        await using var db = CreateDbContext();
        return await query(db);
    }

    public virtual async ValueTask DisposeAsync()
    {
        await _scope.DisposeAsync();
        await _app.DisposeAsync();
        SqliteConnection.ClearAllPools();
        if (PostgresConnection is not null) Portal.Testing.TestServers.Postgres.DropDatabase(PostgresConnection);
        try { Directory.Delete(DataDirectory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Whoever <see cref="ActAs"/> signed in; nobody at first.</summary>
    public sealed class SignedInUser : AuthenticationStateProvider
    {
        private ClaimsPrincipal _user = new(new ClaimsIdentity());
        public ClaimsPrincipal User
        {
            get => _user;
            set { _user = value; NotifyAuthenticationStateChanged(GetAuthenticationStateAsync()); }
        }
        public override Task<AuthenticationState> GetAuthenticationStateAsync() => Task.FromResult(new AuthenticationState(_user));
    }
}
