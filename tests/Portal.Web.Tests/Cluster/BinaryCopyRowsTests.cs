using Npgsql;
using NpgsqlTypes;
using Portal.Testing;
using Portal.Web.Features.Runs;

namespace Portal.Web.Tests.Cluster;

/// <summary>
/// The metric writer writes PostgreSQL's binary COPY format itself (<see cref="BinaryCopyRows"/>). The rows it stores
/// must be exactly the rows Npgsql's own importer stores from the same values, whatever the name, value or time.
/// </summary>
public sealed class BinaryCopyRowsTests : IDisposable
{
    private const string Columns = """("RunId", "Name", "Step", "Value", "WallTime")""";
    private readonly string _database = TestServers.Postgres.CreateDatabase();

    public void Dispose() => TestServers.Postgres.DropDatabase(_database);

    private static List<(long RunId, string Name, long Step, double Value, DateTimeOffset WallTime)> Rows()
    {
        var now = new DateTimeOffset(2026, 12, 3, 17, 4, 5, TimeSpan.Zero).AddTicks(1234567);
        var rows = new List<(long, string, long, double, DateTimeOffset)>
        {
            (1, "loss", 0, 0.5, now),
            (1, "métrique/δ_😀", 1, double.NaN, now.ToOffset(TimeSpan.FromHours(5.5))),
            (2, new string('n', MetricIngestion.MaxNameLength), long.MaxValue, double.PositiveInfinity, DateTimeOffset.MaxValue),
            (long.MaxValue, "x", 3, double.NegativeInfinity, DateTimeOffset.MinValue),
            (3, "loss", 4, -0.0, new DateTimeOffset(1999, 12, 31, 23, 59, 59, TimeSpan.Zero).AddTicks(9_999_999)),
            (3, "lr", 5, double.Epsilon, new DateTimeOffset(1970, 1, 1, 0, 0, 0, TimeSpan.FromHours(-8)).AddTicks(5)),
            (-4, "lr", -6, double.MaxValue, new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero)),
        };
        // Enough rows to fill the buffer several times, and a row that ends exactly where another begins a flush.
        for (var i = 0; i < 20_000; i++) rows.Add((10 + i % 4, $"series_{i % 7}", i, 1.0 / (i + 1), now.AddTicks(i * 3)));
        return rows;
    }

    [Fact]
    public async Task Rows_written_in_the_binary_format_are_the_rows_Npgsql_writes()
    {
        await using var connection = new NpgsqlConnection(_database);
        await connection.OpenAsync();
        await using (var create = new NpgsqlCommand("""
            CREATE TABLE written ("RunId" bigint, "Name" text, "Step" bigint, "Value" double precision, "WallTime" timestamptz);
            CREATE TABLE reference (LIKE written);
            """, connection)) await create.ExecuteNonQueryAsync();
        var rows = Rows();

        await using (var stream = await connection.BeginRawBinaryCopyAsync($"COPY written {Columns} FROM STDIN (FORMAT BINARY)"))
        {
            var copy = new BinaryCopyRows(stream);
            foreach (var (runId, name, step, value, wallTime) in rows) copy.Write(runId, name, step, value, wallTime);
            copy.Complete();
        }
        await using (var import = await connection.BeginBinaryImportAsync($"COPY reference {Columns} FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var (runId, name, step, value, wallTime) in rows)
                await import.WriteRowAsync(default, runId, name, step, value, wallTime.ToUniversalTime());
            await import.CompleteAsync();
        }

        // Text forms compare NaN, -0 and infinities exactly (NaN = NaN and -0 = 0 in SQL comparisons).
        const string AsText = """SELECT "RunId", "Name", "Step", "Value"::text, "WallTime"::text FROM {0}""";
        await using var differ = new NpgsqlCommand($"""
            SELECT (SELECT COUNT(*) FROM written), (SELECT COUNT(*) FROM reference),
                   (SELECT COUNT(*) FROM ({string.Format(AsText, "written")} EXCEPT ALL {string.Format(AsText, "reference")}) d),
                   (SELECT COUNT(*) FROM ({string.Format(AsText, "reference")} EXCEPT ALL {string.Format(AsText, "written")}) d)
            """, connection);
        await using var reader = await differ.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal((rows.Count, rows.Count, 0L, 0L), (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3)));
    }

    [Fact]
    public async Task A_duplicate_key_in_the_COPY_fails_with_the_server_error_and_stores_nothing()
    {
        // The fallback on a duplicate key depends on the server's error surfacing from the raw COPY as it does from
        // Npgsql's importer: a point stored twice in one COPY stands for a duplicate with a stored point.
        await using var connection = new NpgsqlConnection(_database);
        await connection.OpenAsync();
        await using (var create = new NpgsqlCommand("""CREATE TABLE keyed ("RunId" bigint, "Name" text, "Step" bigint, "Value" double precision, "WallTime" timestamptz, PRIMARY KEY ("RunId", "Name", "Step"))""", connection))
            await create.ExecuteNonQueryAsync();

        var error = await Assert.ThrowsAsync<PostgresException>(async () =>
        {
            await using var stream = await connection.BeginRawBinaryCopyAsync($"COPY keyed {Columns} FROM STDIN (FORMAT BINARY)");
            var copy = new BinaryCopyRows(stream);
            copy.Write(1, "loss", 7, 1, DateTimeOffset.UtcNow);
            copy.Write(1, "loss", 7, 2, DateTimeOffset.UtcNow);
            copy.Complete();
        });

        Assert.Equal(PostgresErrorCodes.UniqueViolation, error.SqlState);
        await using var count = new NpgsqlCommand("SELECT COUNT(*) FROM keyed", connection);
        Assert.Equal(0L, await count.ExecuteScalarAsync());
    }
}
