using System.Data;
using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Portal.Web.Data;

/// <summary>
/// The plain ADO.NET connection of the hot paths on whichever engine the portal runs: SQLite through
/// <see cref="RawSqlite"/>, or PostgreSQL. SQL written for both quotes every identifier (both engines keep the
/// EF-generated PascalCase names only when quoted) and names parameters with <c>@</c>, which both accept.
/// </summary>
public static class RawDb
{
    public static async Task<DbConnection> OpenAsync(IDbContextFactory<PortalDbContext> dbFactory, CancellationToken cancellationToken)
    {
        bool postgres;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
            postgres = db.Database.IsNpgsql();
        if (!postgres) return await RawSqlite.OpenAsync(dbFactory, cancellationToken);
        string connectionString;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
            connectionString = db.Database.GetConnectionString()!;
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    public static bool IsPostgres(this DbConnection connection) => connection is NpgsqlConnection;

    /// <summary>SQL's two-argument minimum and maximum: scalar MIN/MAX on SQLite, LEAST/GREATEST on PostgreSQL.</summary>
    public static string Least(this DbConnection connection) => connection.IsPostgres() ? "LEAST" : "MIN";

    public static string Greatest(this DbConnection connection) => connection.IsPostgres() ? "GREATEST" : "MAX";

    public static DbParameter Add(this DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
        return parameter;
    }

    public static DbParameter Add(this DbCommand command, string name, DbType type)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.DbType = type;
        command.Parameters.Add(parameter);
        return parameter;
    }

    /// <summary>A wall time as the engine stores it (see docs/decisions/0004: an integer on SQLite, timestamptz on PostgreSQL).</summary>
    public static object ToStoredTime(this DbConnection connection, DateTimeOffset time) =>
        connection.IsPostgres() ? time.ToUniversalTime() : RawSqlite.ToStoredTime(time);

    public static DbType StoredTimeType(this DbConnection connection) => connection.IsPostgres() ? DbType.DateTimeOffset : DbType.Int64;

    /// <summary>A stored wall time as Unix milliseconds, from either engine's column.</summary>
    public static long ReadTimeMs(this DbDataReader reader, int ordinal) =>
        reader.GetFieldType(ordinal) == typeof(long)
            ? RawSqlite.FromStoredTime(reader.GetInt64(ordinal)).ToUnixTimeMilliseconds()
            : reader.GetFieldValue<DateTimeOffset>(ordinal).ToUnixTimeMilliseconds();
}

/// <summary>Serializing a check and the write that depends on it, on either engine.</summary>
public static class DatabaseLocks
{
    /// <summary>
    /// Inside a transaction: on SQLite nothing to do (Microsoft.Data.Sqlite begins IMMEDIATE, so the transaction
    /// already holds the one write lock); on PostgreSQL a transaction-scoped advisory lock on <paramref name="key"/>,
    /// so two transactions with the same key (on any instance) run their check-then-write one after the other.
    /// </summary>
    public static async Task LockAsync(this PortalDbContext db, string key, CancellationToken cancellationToken)
    {
        if (!db.Database.IsNpgsql()) return;
        await db.Database.ExecuteSqlInterpolatedAsync($"SELECT pg_advisory_xact_lock(hashtextextended({key}, 0))", cancellationToken);
    }
}
