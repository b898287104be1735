using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Portal.Web.Data;

/// <summary>
/// The plain ADO.NET connection of the hot paths (the metric writer, the curve tiers): the DbContext's database
/// file, synchronous=NORMAL (WAL keeps it consistent and a commit spares an fsync), and the DateTimeOffset
/// encoding EF uses for the same columns, compiled once so that no value is boxed.
/// </summary>
public static class RawSqlite
{
    public static readonly Func<DateTimeOffset, long> ToStoredTime = new DateTimeOffsetToBinaryConverter().ConvertToProviderTyped;

    public static readonly Func<long, DateTimeOffset> FromStoredTime =
        (Func<long, DateTimeOffset>)new DateTimeOffsetToBinaryConverter().ConvertFromProviderExpression.Compile();

    public static async Task<SqliteConnection> OpenAsync(IDbContextFactory<PortalDbContext> dbFactory, CancellationToken cancellationToken)
    {
        string connectionString;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
            connectionString = db.Database.GetConnectionString()!;
        var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA synchronous=NORMAL;";
        await pragma.ExecuteNonQueryAsync(cancellationToken);
        return connection;
    }
}
