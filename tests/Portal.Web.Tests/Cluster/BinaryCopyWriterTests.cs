using Npgsql;
using Portal.Testing;
using Portal.Web.Features.Runs;
using Portal.Web.Infrastructure;

namespace Portal.Web.Tests.Cluster;

/// <summary>
/// The metric writer and the chart tiers write PostgreSQL's binary COPY format themselves (<see cref="BinaryCopyWriter"/>).
/// The rows stored must be exactly the rows Npgsql's own importer stores from the same values, whatever the text,
/// number or time, flushed as rows go or at the end.
/// </summary>
public sealed class BinaryCopyWriterTests : IDisposable
{
    private const string Columns = """("RunId", "Name", "Step", "Value", "WallTime", "Level", "Maybe")""";
    private readonly string _database = TestServers.Postgres.CreateDatabase();

    public void Dispose() => TestServers.Postgres.DropDatabase(_database);

    private sealed record Row(long RunId, string Name, long Step, double Value, DateTimeOffset WallTime, int Level, long? Maybe);

    private static List<Row> Rows()
    {
        var now = new DateTimeOffset(2026, 12, 3, 17, 4, 5, TimeSpan.Zero).AddTicks(1234567);
        var rows = new List<Row>
        {
            new(1, "loss", 0, 0.5, now, 0, null),
            new(1, "métrique/δ_😀", 1, double.NaN, now.ToOffset(TimeSpan.FromHours(5.5)), int.MaxValue, long.MinValue),
            new(2, new string('n', MetricIngestion.MaxNameLength), long.MaxValue, double.PositiveInfinity, DateTimeOffset.MaxValue, int.MinValue, long.MaxValue),
            new(long.MaxValue, "x", 3, double.NegativeInfinity, DateTimeOffset.MinValue, -1, 0),
            new(3, "", 4, -0.0, new DateTimeOffset(1999, 12, 31, 23, 59, 59, TimeSpan.Zero).AddTicks(9_999_999), 4, null),
            new(3, "lr", 5, double.Epsilon, new DateTimeOffset(1970, 1, 1, 0, 0, 0, TimeSpan.FromHours(-8)).AddTicks(5), 30, -7),
            new(-4, "lr", -6, double.MaxValue, new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero), 6, null),
        };
        // Enough rows to fill the buffer many times over.
        for (var i = 0; i < 20_000; i++) rows.Add(new(10 + i % 4, $"series_{i % 7}", i, 1.0 / (i + 1), now.AddTicks(i * 3), i % 14, i % 3 == 0 ? null : i));
        return rows;
    }

    private static void Write(BinaryCopyWriter copy, Row row)
    {
        copy.StartRow(7);
        copy.Int64(row.RunId);
        copy.Text(row.Name);
        copy.Int64(row.Step);
        copy.Double(row.Value);
        copy.TimestampTz(row.WallTime);
        copy.Int32(row.Level);
        if (row.Maybe is { } maybe) copy.Int64(maybe);
        else copy.Null();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Rows_written_in_the_binary_format_are_the_rows_Npgsql_writes(bool flushWhenFull)
    {
        await using var connection = new NpgsqlConnection(_database);
        await connection.OpenAsync();
        await using (var create = new NpgsqlCommand("""
            CREATE TABLE written ("RunId" bigint, "Name" text, "Step" bigint, "Value" double precision, "WallTime" timestamptz,
              "Level" integer, "Maybe" bigint);
            CREATE TABLE reference (LIKE written);
            """, connection)) await create.ExecuteNonQueryAsync();
        var rows = Rows();

        await using (var stream = await connection.BeginRawBinaryCopyAsync($"COPY written {Columns} FROM STDIN (FORMAT BINARY)"))
        {
            var copy = new BinaryCopyWriter(stream, flushWhenFull);
            foreach (var row in rows)
            {
                if (!flushWhenFull && copy.Full) await copy.FlushAsync(CancellationToken.None);
                Write(copy, row);
            }
            if (flushWhenFull) copy.Complete();
            else await copy.CompleteAsync(CancellationToken.None);
        }
        await using (var import = await connection.BeginBinaryImportAsync($"COPY reference {Columns} FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var row in rows)
                await import.WriteRowAsync(default, row.RunId, row.Name, row.Step, row.Value, row.WallTime.ToUniversalTime(), row.Level, (object?)row.Maybe ?? DBNull.Value);
            await import.CompleteAsync();
        }

        // Text forms compare NaN, -0 and infinities exactly (in SQL NaN = NaN and -0 = 0); IS NOT DISTINCT keeps nulls.
        const string AsText = """SELECT "RunId", "Name", "Step", "Value"::text, "WallTime"::text, "Level", "Maybe" FROM {0}""";
        await using var differ = new NpgsqlCommand($"""
            SELECT (SELECT COUNT(*) FROM written), (SELECT COUNT(*) FROM reference),
                   (SELECT COUNT(*) FROM ({string.Format(AsText, "written")} EXCEPT ALL {string.Format(AsText, "reference")}) d),
                   (SELECT COUNT(*) FROM ({string.Format(AsText, "reference")} EXCEPT ALL {string.Format(AsText, "written")}) d),
                   (SELECT COUNT(*) FROM written WHERE "Maybe" IS NULL)
            """, connection);
        await using var reader = await differ.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal((rows.Count, rows.Count, 0L, 0L, rows.Count(r => r.Maybe is null)),
            (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4)));
    }

    [Fact]
    public async Task A_duplicate_key_in_the_COPY_fails_with_the_server_error_and_stores_nothing()
    {
        // The metric writer's fallback on a point stored already depends on the server's error surfacing from the
        // raw COPY as it does from Npgsql's importer; a point twice in one COPY stands for one stored before.
        await using var connection = new NpgsqlConnection(_database);
        await connection.OpenAsync();
        await using (var create = new NpgsqlCommand("""
            CREATE TABLE keyed ("RunId" bigint, "Name" text, "Step" bigint, "Value" double precision, "WallTime" timestamptz,
              "Level" integer, "Maybe" bigint, PRIMARY KEY ("RunId", "Name", "Step"))
            """, connection)) await create.ExecuteNonQueryAsync();

        var error = await Assert.ThrowsAsync<PostgresException>(async () =>
        {
            await using var stream = await connection.BeginRawBinaryCopyAsync($"COPY keyed {Columns} FROM STDIN (FORMAT BINARY)");
            var copy = new BinaryCopyWriter(stream);
            Write(copy, new Row(1, "loss", 7, 1, DateTimeOffset.UtcNow, 0, null));
            Write(copy, new Row(1, "loss", 7, 2, DateTimeOffset.UtcNow, 0, null));
            copy.Complete();
        });

        Assert.Equal(PostgresErrorCodes.UniqueViolation, error.SqlState);
        await using var count = new NpgsqlCommand("SELECT COUNT(*) FROM keyed", connection);
        Assert.Equal(0L, await count.ExecuteScalarAsync());
    }
}
