using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Portal.Web.Data;

/// <summary>
/// <see cref="PortalDbContext"/> on PostgreSQL. Same model and options type; a type of its own so that its
/// migrations (Data/Migrations/Postgres) are found apart from SQLite's.
/// </summary>
public sealed class PostgresPortalDbContext(DbContextOptions<PortalDbContext> options) : PortalDbContext(options)
{
    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        // PostgreSQL checks a foreign key row by row with a locking lookup of the run, which costs the binary COPY of
        // metric points about as much as storing them. The writer reads the run (exists, running, this agent's) in
        // the transaction that stores its points, and runs are never deleted, so the key adds no safety there
        // (docs/decisions/0026-metric-points-without-run-key-on-postgres.md).
        // The chart tiers derived from the points are written at a twelfth of a row per point, and the same row-by-row
        // check of their run cost their writer a quarter of its time: they go without the key too.
        foreach (var derived in new[] { typeof(Features.Runs.MetricPoint), typeof(Features.Curves.CurveSeries), typeof(Features.Curves.CurveRollup) })
        {
            var entity = builder.Entity(derived).Metadata;
            foreach (var key in entity.GetForeignKeys().ToList()) entity.RemoveForeignKey(key);
        }

        // Metric names are keys, compared on every point stored: in the "C" collation a comparison is a memcmp, in
        // a language collation a strcoll per comparison, which was a tenth of the server's work storing points.
        // Byte order is also the order SQLite's keys have, so both engines list metrics alike.
        builder.Entity<Features.Runs.MetricPoint>().Property(p => p.Name).UseCollation("C");
        builder.Entity<Features.Curves.CurveSeries>().Property(s => s.Name).UseCollation("C");
        builder.Entity<Features.Curves.CurveRollup>().Property(r => r.Name).UseCollation("C");
    }
}

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
/// For `dotnet ef migrations add --context PortalDbContext`: SQLite's own design-time factory. Without it the tools
/// build the SQLite context with <see cref="PostgresDesignTimeFactory"/> (its context is a PortalDbContext too), and
/// SQLite's migration comes out with PostgreSQL's column types.
/// </summary>
public sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<PortalDbContext>
{
    public PortalDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PortalDbContext>().UseSqlite("Data Source=design-time.db").Options);
}
