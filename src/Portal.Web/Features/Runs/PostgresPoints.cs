using Npgsql;
using Portal.Contracts;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Runs;

/// <summary>
/// The metric writer's PostgreSQL path. A group's points go into the points table by one binary COPY (the fastest
/// way into PostgreSQL) inside a savepoint: the primary key refuses the whole COPY if any point is already stored.
/// That is rare (an agent resending after a lost ack, another instance storing the same retry), and then the
/// savepoint is rolled back and the points go through a per-connection staging table and one
/// INSERT ... SELECT ... ON CONFLICT DO NOTHING, which keeps each (run, name, step) once whichever instance or retry
/// sends it; RETURNING names the points that were new, for the live fan-out.
/// </summary>
internal sealed class PostgresPoints
{
    private const string Staging = "metric_points_staging";
    private const string Columns = """("RunId", "Name", "Step", "Value", "WallTime")""";
    private readonly NpgsqlConnection _connection;

    public PostgresPoints(NpgsqlConnection connection)
    {
        _connection = connection;
        // Created outside any transaction, so a rolled-back group cannot take it away; emptied by every commit.
        using var create = new NpgsqlCommand($"""
            CREATE TEMP TABLE IF NOT EXISTS {Staging} ("RunId" bigint NOT NULL, "Name" text NOT NULL, "Step" bigint NOT NULL,
              "Value" double precision NOT NULL, "WallTime" timestamptz NOT NULL) ON COMMIT DELETE ROWS
            """, connection);
        create.ExecuteNonQuery();
    }

    /// <summary>
    /// Stores the points inside <paramref name="transaction"/> (read twice when some were stored already). Returns null
    /// when every point was new, otherwise the keys of those that were.
    /// </summary>
    public HashSet<(long RunId, string Name, long Step)>? Store(IEnumerable<(long RunId, MetricPointDto Point)> points, NpgsqlTransaction transaction)
    {
        transaction.Save("points");
        try
        {
            Copy(points, "\"MetricPoints\"");
            transaction.Release("points");
            return null;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            transaction.Rollback("points");
        }

        Copy(points, Staging);
        using var insert = new NpgsqlCommand($"""
            INSERT INTO "MetricPoints" {Columns}
            SELECT {Columns.Trim('(', ')')} FROM {Staging}
            ON CONFLICT ("RunId", "Name", "Step") DO NOTHING
            RETURNING "RunId", "Name", "Step"
            """, _connection, transaction);
        var inserted = new HashSet<(long, string, long)>();
        using var reader = insert.ExecuteReader();
        while (reader.Read()) inserted.Add((reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2)));
        return inserted;
    }

    /// <summary>The points by binary COPY, written in the format directly (see <see cref="BinaryCopyWriter"/>).</summary>
    private void Copy(IEnumerable<(long RunId, MetricPointDto Point)> points, string table)
    {
        using var stream = _connection.BeginRawBinaryCopy($"COPY {table} {Columns} FROM STDIN (FORMAT BINARY)");
        var rows = new BinaryCopyWriter(stream);
        foreach (var (runId, p) in points)
        {
            rows.StartRow(5);
            rows.Int64(runId);
            rows.Text(p.Name);
            rows.Int64(p.Step);
            rows.Double(NaNSentinel.ToStored(p.Value));
            rows.TimestampTz(p.WallTime);
        }
        rows.Complete();
    }
}
