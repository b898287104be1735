using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Web.Features.Demo;

namespace Portal.Web.Data;

/// <summary>
/// Brings the database up to date before the server takes requests, then seeds demo data if asked. A PostgreSQL
/// server that does not answer at start-up does not fail the start: the portal starts not ready (see
/// <see cref="DatabaseStartup"/>) and tries again with a growing pause until the server answers.
/// </summary>
public sealed class PortalDatabase(
    IDbContextFactory<PortalDbContext> dbFactory,
    IServiceProvider services,
    IOptions<PortalOptions> options,
    DatabaseStartup startup,
    IHostApplicationLifetime lifetime,
    ILogger<PortalDatabase> logger) : IHostedService
{
    private static readonly TimeSpan FirstPause = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LongestPause = TimeSpan.FromSeconds(30);
    private readonly CancellationTokenSource _stopping = new();
    private Task _retrying = Task.CompletedTask;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await InitializeAsync(dbFactory, cancellationToken);
        }
        catch (Npgsql.NpgsqlException e) when (e.IsTransient)
        {
            // Instances and their database often start together, and an orchestrator restarts what fails: so the
            // instance starts, answers "not ready" and waits for the database rather than exit.
            logger.LogWarning("The database is unreachable at start-up ({Message}); the portal reports not ready and tries again", e.Message);
            _retrying = Task.Run(() => RetryAsync(_stopping.Token), CancellationToken.None);
            return;
        }
        await CompleteAsync(cancellationToken);
    }

    private async Task RetryAsync(CancellationToken stoppingToken)
    {
        var pause = FirstPause;
        try
        {
            while (true)
            {
                await Task.Delay(pause, stoppingToken);
                try
                {
                    await InitializeAsync(dbFactory, stoppingToken);
                    break;
                }
                catch (Npgsql.NpgsqlException e) when (e.IsTransient)
                {
                    pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, LongestPause.Ticks));
                    logger.LogWarning("The database is still unreachable ({Message}); trying again in {Seconds} s", e.Message, pause.TotalSeconds);
                }
            }
            logger.LogInformation("The database answers: migrations applied");
            await CompleteAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The portal stops before its database came.
        }
        catch (Exception e)
        {
            logger.LogCritical(e, "The database could not be prepared; the portal stops");
            Environment.ExitCode = 1;
            lifetime.StopApplication();
        }
    }

    private async Task CompleteAsync(CancellationToken cancellationToken)
    {
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
        startup.MarkReady();
        logger.LogInformation("Database ready in {Folder}", options.Value.ResolveDataDirectory());
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await _retrying.WaitAsync(cancellationToken);
    }

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
