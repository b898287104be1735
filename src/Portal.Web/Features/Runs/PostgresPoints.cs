using Npgsql;
using Portal.Contracts;

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

    /// <summary>
    /// Writes the rows in PostgreSQL's binary COPY format straight onto the wire. Npgsql's importer resolves a
    /// converter and runs an async state machine per value, which cost the writer more than the rest of its work;
    /// five fixed columns need neither.
    /// </summary>
    private void Copy(IEnumerable<(long RunId, MetricPointDto Point)> points, string table)
    {
        using var stream = _connection.BeginRawBinaryCopy($"COPY {table} {Columns} FROM STDIN (FORMAT BINARY)");
        var rows = new BinaryCopyRows(stream);
        foreach (var (runId, p) in points) rows.Write(runId, p.Name, p.Step, NaNSentinel.ToStored(p.Value), p.WallTime);
        rows.Complete();
    }
}

/// <summary>
/// The points table's rows in PostgreSQL's binary COPY format (a signature and two zero words, then per row a field
/// count and each field as its length and its big-endian value, then -1), buffered and written to a COPY stream.
/// </summary>
internal sealed class BinaryCopyRows
{
    private static readonly byte[] Signature = [(byte)'P', (byte)'G', (byte)'C', (byte)'O', (byte)'P', (byte)'Y', (byte)'\n', 0xFF, (byte)'\r', (byte)'\n', 0];
    /// <summary>PostgreSQL counts timestamps in microseconds from 2000-01-01 UTC.</summary>
    private static readonly long PostgresEpochTicks = new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;
    private const int FlushAt = 60 * 1024;

    private readonly Stream _stream;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private readonly Dictionary<string, byte[]> _names = new(StringComparer.Ordinal);
    private int _length;

    public BinaryCopyRows(Stream stream)
    {
        _stream = stream;
        Signature.CopyTo(_buffer, 0);
        _buffer.AsSpan(Signature.Length, 8).Clear(); // flags, header extension length
        _length = Signature.Length + 8;
    }

    /// <summary>Metric names are at most <see cref="MetricIngestion.MaxNameLength"/> characters, so a row always fits the buffer.</summary>
    public void Write(long runId, string name, long step, double value, DateTimeOffset wallTime)
    {
        if (!_names.TryGetValue(name, out var utf8)) _names[name] = utf8 = System.Text.Encoding.UTF8.GetBytes(name);
        if (_length + 2 + 4 * (4 + 8) + 4 + utf8.Length > _buffer.Length) Flush();
        var row = _buffer.AsSpan(_length);
        System.Buffers.Binary.BinaryPrimitives.WriteInt16BigEndian(row, 5);
        var at = 2;
        at = Int64(row, at, runId);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(row[at..], utf8.Length);
        utf8.CopyTo(row[(at + 4)..]);
        at += 4 + utf8.Length;
        at = Int64(row, at, step);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(row[at..], 8);
        System.Buffers.Binary.BinaryPrimitives.WriteDoubleBigEndian(row[(at + 4)..], value);
        at += 12;
        at = Int64(row, at, Microseconds(wallTime));
        _length += at;
        if (_length >= FlushAt) Flush();
    }

    public void Complete()
    {
        if (_length + 2 > _buffer.Length) Flush();
        System.Buffers.Binary.BinaryPrimitives.WriteInt16BigEndian(_buffer.AsSpan(_length), -1);
        _length += 2;
        Flush();
    }

    /// <summary>As Npgsql writes a timestamptz: the earliest and latest times as -infinity and infinity.</summary>
    private static long Microseconds(DateTimeOffset time) =>
        time == DateTimeOffset.MaxValue ? long.MaxValue
        : time == DateTimeOffset.MinValue ? long.MinValue
        : (time.UtcTicks - PostgresEpochTicks) / TimeSpan.TicksPerMicrosecond;

    private static int Int64(Span<byte> row, int at, long value)
    {
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(row[at..], 8);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(row[(at + 4)..], value);
        return at + 12;
    }

    private void Flush()
    {
        _stream.Write(_buffer, 0, _length);
        _length = 0;
    }
}
