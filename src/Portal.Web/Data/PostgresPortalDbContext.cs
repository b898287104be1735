using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Portal.Web.Data;

/// <summary>
/// <see cref="PortalDbContext"/> on PostgreSQL. Same model and options type; a type of its own so that its
/// migrations (Data/Migrations/Postgres) are found apart from SQLite's.
/// </summary>
public sealed class PostgresPortalDbContext(DbContextOptions<PortalDbContext> options) : PortalDbContext(options);

/// <summary>Hands out <see cref="PostgresPortalDbContext"/> wherever the portal asks for a <see cref="PortalDbContext"/>.</summary>
public sealed class PostgresDbContextFactory(DbContextOptions<PortalDbContext> options) : IDbContextFactory<PortalDbContext>
{
    public PortalDbContext CreateDbContext() => new PostgresPortalDbContext(options);
}

/// <summary>For `dotnet ef migrations add --context PostgresPortalDbContext`: adding a migration needs no server.</summary>
public sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresPortalDbContext>
{
    public PostgresPortalDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PortalDbContext>().UseNpgsql("Host=localhost;Database=portal").Options);
}

/// <summary>
/// For `dotnet ef migrations add --context PortalDbContext`: without a factory of its own, the tools would take the
/// PostgreSQL factory above (its context is also a PortalDbContext) and write PostgreSQL migrations into SQLite's folder.
/// </summary>
public sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<PortalDbContext>
{
    public PortalDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PortalDbContext>().UseSqlite("Data Source=portal-design-time.db").Options);
}
