using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Web.Features.Demo;

namespace Portal.Web.Data;

/// <summary>Brings the database up to date before the server takes requests, then seeds demo data if asked.</summary>
public sealed class PortalDatabase(
    IDbContextFactory<PortalDbContext> dbFactory,
    IServiceProvider services,
    IOptions<PortalOptions> options,
    ILogger<PortalDatabase> logger) : IHostedService
{
    /// <summary>How long a start waits for a PostgreSQL server that does not answer yet (SQLite is a local file).</summary>
    private static readonly TimeSpan ServerWait = TimeSpan.FromMinutes(5);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var waitingSince = TimeProvider.System.GetUtcNow();
        while (true)
        {
            try
            {
                await InitializeAsync(dbFactory, cancellationToken);
                break;
            }
            catch (Npgsql.NpgsqlException e) when (e.IsTransient && TimeProvider.System.GetUtcNow() - waitingSince < ServerWait)
            {
                // Instances and their database often start together: wait for it rather than fail the start.
                logger.LogWarning("The database does not answer yet ({Message}); trying again", e.Message);
                await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
            }
        }
        if (options.Value.Demo)
        {
            using var scope = services.CreateScope();
            await scope.ServiceProvider.GetRequiredService<DemoSeeder>().SeedIfEmptyAsync(cancellationToken);
            await DemoCredentials.EnsureAgentTokenAsync(dbFactory, scope.ServiceProvider.GetRequiredService<IConfiguration>()["Portal:DemoAgentToken"],
                TimeProvider.System.GetUtcNow(), cancellationToken);
        }
        else
        {
            await DemoCredentials.RefuseIfActiveAsync(dbFactory, options.Value.ResolveDataDirectory(), cancellationToken);
        }
        logger.LogInformation("Database ready in {Folder}", options.Value.ResolveDataDirectory());
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public static async Task InitializeAsync(IDbContextFactory<PortalDbContext> dbFactory, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.Database.MigrateAsync(cancellationToken);
        if (db.Database.IsSqlite())
        {
            // WAL lets the board be read while metric batches are written.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        }
    }
}
