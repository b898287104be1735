using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Portal.Web.Data;

namespace Portal.Web.Tests.Data;

public sealed class MigrationTests
{
    [Fact]
    public void The_committed_migrations_match_the_model()
    {
        using var connection = new SqliteConnection("Data Source=:memory:");
        using var db = new PortalDbContext(new DbContextOptionsBuilder<PortalDbContext>().UseSqlite(connection).Options);
        Assert.False(db.Database.HasPendingModelChanges(),
            "The model has changes that no SQLite migration describes: add one with `build/add-migration.sh <Name>`.");
    }

    [Fact]
    public async Task The_migrations_build_a_database_from_nothing()
    {
        var file = Path.Combine(Path.GetTempPath(), $"portal-migrate-{Guid.NewGuid():N}.db");
        try
        {
            var options = new DbContextOptionsBuilder<PortalDbContext>().UseSqlite($"Data Source={file}").Options;
            await using (var db = new PortalDbContext(options))
            {
                await db.Database.MigrateAsync();
                Assert.Empty(await db.Database.GetPendingMigrationsAsync());
                Assert.Equal(0, await db.Projects.CountAsync());
            }
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            File.Delete(file);
        }
    }

    [Fact]
    public void The_committed_PostgreSQL_migrations_match_the_model()
    {
        // No server needed: the model is compared with the PostgreSQL migrations' snapshot.
        using var db = new PostgresPortalDbContext(new DbContextOptionsBuilder<PortalDbContext>().UseNpgsql("Host=127.0.0.1;Database=unused").Options);
        Assert.False(db.Database.HasPendingModelChanges(),
            "The model has changes that no PostgreSQL migration describes: add one with `build/add-migration.sh <Name>`.");
    }

    [Fact]
    public async Task The_PostgreSQL_migrations_build_a_database_from_nothing()
    {
        var connectionString = Portal.Testing.TestServers.Postgres.CreateDatabase();
        try
        {
            await using var db = new PostgresPortalDbContext(new DbContextOptionsBuilder<PortalDbContext>().UseNpgsql(connectionString).Options);
            await db.Database.MigrateAsync();
            Assert.Empty(await db.Database.GetPendingMigrationsAsync());
            Assert.Equal(0, await db.Projects.CountAsync());
        }
        finally
        {
            Portal.Testing.TestServers.Postgres.DropDatabase(connectionString);
        }
    }
}
