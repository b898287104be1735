using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Web.Data;

namespace Portal.Testing;

/// <summary>
/// The real portal on a real Kestrel port with its own SQLite file in a fresh temp folder.
/// Demo data is on by default so tests can sign in as the demo team. With PORTAL_TEST_DATABASE=postgres (or
/// <see cref="UsePostgres"/>) the portal runs on a fresh database of the test run's private PostgreSQL server.
/// </summary>
public class PortalAppFactory : WebApplicationFactory<Program>
{
    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "portal-tests", Guid.NewGuid().ToString("N"));

    /// <summary>Extra configuration, e.g. ["Portal:Demo"] = "false". Set before first use.</summary>
    public Dictionary<string, string?> Settings { get; } = new() { ["Portal:Demo"] = "true" };

    public PortalAppFactory()
    {
        UseKestrel(0);
    }

    /// <summary>The PostgreSQL database this portal runs on, if any (its own unless another instance's was given).</summary>
    public string? PostgresConnection { get; private set; }
    private bool _ownsDatabase;

    /// <summary>Runs on <paramref name="connectionString"/> (a database another instance shares), or a fresh database. Call before first use.</summary>
    public PortalAppFactory UsePostgres(string? connectionString = null)
    {
        if (_ownsDatabase && PostgresConnection is not null && connectionString != PostgresConnection)
            TestServers.Postgres.DropDatabase(PostgresConnection);
        _ownsDatabase = connectionString is null;
        PostgresConnection = connectionString ?? TestServers.Postgres.CreateDatabase();
        Settings["Portal:Postgres"] = PostgresConnection;
        return this;
    }

    /// <summary>Base address of the running server, e.g. http://127.0.0.1:41234/.</summary>
    public Uri ServerAddress
    {
        get
        {
            StartServer();
            return ClientOptions.BaseAddress;
        }
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        builder.UseSetting("Portal:DataDirectory", DataDirectory);
        if (TestServers.PostgresRequested && PostgresConnection is null)
        {
            // A portal restarted on the same data folder (a restart test) finds the same database.
            Settings.TryGetValue("Portal:DataDirectory", out var folder);
            _ownsDatabase = folder is null;
            PostgresConnection = TestServers.Postgres.DatabaseFor(folder ?? DataDirectory);
            builder.UseSetting("Portal:Postgres", PostgresConnection);
        }
        foreach (var (key, value) in Settings) builder.UseSetting(key, value);
    }

    public IDbContextFactory<PortalDbContext> DbFactory => Services.GetRequiredService<IDbContextFactory<PortalDbContext>>();

    public async Task<T> WithDbAsync<T>(Func<PortalDbContext, Task<T>> query)
    {
        await using var db = await DbFactory.CreateDbContextAsync();
        return await query(db);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            if (_ownsDatabase && PostgresConnection is not null) TestServers.Postgres.DropDatabase(PostgresConnection);
            try { Directory.Delete(DataDirectory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
