using System.Data;
using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Portal.Web.Data;
using Portal.Web.Features.Runs;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Curves;

/// <summary>The stored summary of one series: its count and step range (see <see cref="CurveSeries"/>).</summary>
public sealed record SeriesState(long RolledUpToStep, long Count, long MinStep, long MaxStep);

/// <summary>
/// Keeps the M4 tiers of every series up to date and reads charts from them (decision record:
/// docs/decisions/curves-rollup-tiers.md). Tiers are brought up to date from the raw points past
/// <see cref="CurveSeries.RolledUpToStep"/>: after each stored batch (via <see cref="RollupRoller"/>) and, as a
/// safety net, before every read, so a chart is never older than the points stored when it was asked for.
/// Steps are assumed to arrive in increasing order per series (a resumed run repeats stored steps, which the
/// metric table ignores); a point stored below the rolled-up step would be missed by the tiers.
/// Plain ADO.NET: the tier upserts and range reads are hot paths where EF's change tracking costs more than the work.
/// </summary>
public sealed class CurveRollups(IDbContextFactory<PortalDbContext> dbFactory) : IRunPointsDerived
{
    private const int ChunkSize = 50_000;

    // SQLite has one writer at a time anyway; one gate keeps two catch-ups of a series in this process from racing.
    // Across instances (PostgreSQL) a catch-up locks its series row first (see RollChunkAsync).
    private readonly SemaphoreSlim _writer = new(1, 1);

    public Task<DbConnection> OpenAsync(CancellationToken cancellationToken) => RawDb.OpenAsync(dbFactory, cancellationToken);

    /// <summary>The metric names a run has points for (a skip scan over the metric key, not a scan of the points).</summary>
    public static async Task<List<string>> ListMetricsAsync(DbConnection connection, long runId, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = """
            WITH RECURSIVE names(name) AS (
              SELECT MIN("Name") FROM "MetricPoints" WHERE "RunId" = @run
              UNION ALL
              SELECT (SELECT MIN("Name") FROM "MetricPoints" WHERE "RunId" = @run AND "Name" > names.name) FROM names WHERE names.name IS NOT NULL)
            SELECT name FROM names WHERE name IS NOT NULL
            """;
        command.Add("@run", runId);
        var names = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) names.Add(reader.GetString(0));
        return names;
    }

    /// <summary>Rolls any new raw points of the series into the tiers; returns the series' state (null: no points).</summary>
    public async Task<SeriesState?> EnsureCurrentAsync(DbConnection connection, long runId, string name, CancellationToken cancellationToken)
    {
        var state = await ReadStateAsync(connection, runId, name, cancellationToken);
        var newest = await NewestStepAsync(connection, runId, name, cancellationToken);
        if (newest is null || (state is not null && newest <= state.RolledUpToStep)) return state;
        await _writer.WaitAsync(cancellationToken);
        try
        {
            while (true)
            {
                state = await ReadStateAsync(connection, runId, name, cancellationToken);
                if (state is not null && newest <= state.RolledUpToStep) return state;
                if (!await RollChunkAsync(connection, runId, name, state, cancellationToken)) return state;
            }
        }
        finally { _writer.Release(); }
    }

    private static async Task<long?> NewestStepAsync(DbConnection connection, long runId, string name, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = """SELECT MAX("Step") FROM "MetricPoints" WHERE "RunId" = @run AND "Name" = @name""";
        command.Add("@run", runId);
        command.Add("@name", name);
        var value = await command.ExecuteScalarAsync(cancellationToken);
        return value is long step ? step : null;
    }

    public static async Task<SeriesState?> ReadStateAsync(DbConnection connection, long runId, string name, CancellationToken cancellationToken, DbTransaction? transaction = null)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """SELECT "RolledUpToStep", "Count", "MinStep", "MaxStep" FROM "CurveSeries" WHERE "RunId" = @run AND "Name" = @name""";
        command.Add("@run", runId);
        command.Add("@name", name);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken)) return null;
        return new SeriesState(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
    }

    /// <summary>Raised when a run's summaries are dropped: points kept to roll in later may be ones the resume replaces.</summary>
    public event Action<long>? RunForgotten;

    /// <summary>
    /// Drops a run's stored summaries inside the caller's transaction, for when its points are replaced (a resume
    /// rewrites the steps after its checkpoint). The next read rebuilds them from the points that remain.
    /// </summary>
    public async Task ForgetRunAsync(PortalDbContext db, long runId)
    {
        RunForgotten?.Invoke(runId);
        await db.Set<CurveRollup>().Where(r => r.RunId == runId).ExecuteDeleteAsync();
        await db.Set<CurveSeries>().Where(s => s.RunId == runId).ExecuteDeleteAsync();
    }

    /// <summary>Reads raw points in [from, to] in step order; a NaN point comes back as NaN.</summary>
    public static async Task<List<SeriesPoint>> ReadRawAsync(DbConnection connection, long runId, string name, long fromStep, long toStep, int limit, CancellationToken cancellationToken, DbTransaction? transaction = null)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """SELECT "Step", "Value", "WallTime" FROM "MetricPoints" WHERE "RunId" = @run AND "Name" = @name AND "Step" >= @from AND "Step" <= @to ORDER BY "Step" LIMIT @limit""";
        command.Add("@run", runId);
        command.Add("@name", name);
        command.Add("@from", fromStep);
        command.Add("@to", toStep);
        command.Add("@limit", limit);
        var points = new List<SeriesPoint>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            CurveReadMeter.Count();
            var value = reader.IsDBNull(1) || reader.GetFieldType(1) == typeof(string) ? double.NaN : NaNSentinel.FromStored(reader.GetDouble(1));
            points.Add(new SeriesPoint(reader.GetInt64(0), value, reader.ReadTimeMs(2)));
        }
        return points;
    }

    private static async Task<bool> RollChunkAsync(DbConnection connection, long runId, string name, SeriesState? state, CancellationToken cancellationToken)
    {
        await using var transaction = (DbTransaction)await connection.BeginTransactionAsync(cancellationToken);
        if (connection.IsPostgres())
        {
            // Another instance may be rolling the same series: wait for it, then start from what it stored.
            await LockSeriesAsync(connection, transaction, runId, name, cancellationToken);
            state = await ReadStateAsync(connection, runId, name, cancellationToken, transaction);
        }
        var after = state?.RolledUpToStep ?? long.MinValue;
        var points = await ReadRawAsync(connection, runId, name, after == long.MinValue ? long.MinValue : after + 1, long.MaxValue, ChunkSize, cancellationToken, transaction);
        if (points.Count == 0) return false;
        await RollPointsAsync(connection, transaction, runId, name, state, points, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>
    /// Rolls points that this instance has just stored into the series' tiers without reading them back from the
    /// table, which on a busy portal costs more than storing them did. They are used only when they are exactly the
    /// points stored past the rolled-up step: the series has tiers, and the table holds as many points in the steps
    /// they cover as they are. Anything else (a new series, points from another instance, tiers forgotten by a
    /// resume, a step stored out of order) rolls from the table as <see cref="EnsureCurrentAsync"/> does.
    /// <paramref name="stored"/> is in the order the points were stored; a step stored twice keeps its later value.
    /// Without <paramref name="verify"/> the count is not checked: for a caller that knows it saw every point
    /// stored in the series since its tiers were last rolled from the table (one instance, one writer).
    /// </summary>
    public async Task RollStoredAsync(long runId, string name, List<SeriesPoint> stored, bool verify, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var points = InStepOrder(stored);
        bool rolled;
        await _writer.WaitAsync(cancellationToken);
        try { rolled = await TryRollStoredAsync(connection, runId, name, points, verify, cancellationToken); }
        finally { _writer.Release(); }
        if (!rolled) await EnsureCurrentAsync(connection, runId, name, cancellationToken);
    }

    private static async Task<bool> TryRollStoredAsync(DbConnection connection, long runId, string name, List<SeriesPoint> points, bool verify, CancellationToken cancellationToken)
    {
        await using var transaction = (DbTransaction)await connection.BeginTransactionAsync(cancellationToken);
        if (connection.IsPostgres()) await LockSeriesAsync(connection, transaction, runId, name, cancellationToken);
        var state = await ReadStateAsync(connection, runId, name, cancellationToken, transaction);
        if (state is null) return false;
        var first = 0;
        while (first < points.Count && points[first].Step <= state.RolledUpToStep) first++;
        if (first == points.Count) return true; // a chart read rolled them already
        var fresh = first == 0 ? points : points.GetRange(first, points.Count - first);
        if (verify && await CountStoredAsync(connection, transaction, runId, name, state.RolledUpToStep, fresh[^1].Step, cancellationToken) != fresh.Count) return false;
        await RollPointsAsync(connection, transaction, runId, name, state, fresh, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>The points in step order, each step once with the value stored last; usually they already are.</summary>
    private static List<SeriesPoint> InStepOrder(List<SeriesPoint> stored)
    {
        var ordered = true;
        for (var i = 1; i < stored.Count && ordered; i++) ordered = stored[i].Step > stored[i - 1].Step;
        if (ordered) return stored;
        var byStep = new SortedDictionary<long, SeriesPoint>();
        foreach (var point in stored) byStep[point.Step] = point;
        return [.. byStep.Values];
    }

    private static async Task<long> CountStoredAsync(DbConnection connection, DbTransaction transaction, long runId, string name, long after, long last, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """SELECT COUNT(*) FROM "MetricPoints" WHERE "RunId" = @run AND "Name" = @name AND "Step" > @after AND "Step" <= @last""";
        command.Add("@run", runId);
        command.Add("@name", name);
        command.Add("@after", after);
        command.Add("@last", last);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken));
    }

    /// <summary>Another instance may be rolling the same series: a transaction-scoped lock makes it wait its turn.</summary>
    private static async Task LockSeriesAsync(DbConnection connection, DbTransaction transaction, long runId, string name, CancellationToken cancellationToken)
    {
        await using var lockSeries = connection.CreateCommand();
        lockSeries.Transaction = transaction;
        lockSeries.CommandText = "SELECT pg_advisory_xact_lock(hashtextextended(@key, 0))";
        lockSeries.Add("@key", $"curve:{runId}:{name}");
        await lockSeries.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Adds points (in step order, all past <paramref name="state"/>'s rolled-up step) to the series' tiers.</summary>
    private static async Task RollPointsAsync(DbConnection connection, DbTransaction transaction, long runId, string name, SeriesState? state,
        List<SeriesPoint> points, CancellationToken cancellationToken)
    {
        var tiers = CurveLevels.Tiers;
        var open = new M4Bucket[tiers.Length];
        var openBucket = new long[tiers.Length];
        var summaries = new List<(int Level, long Bucket, M4Bucket Summary)>();
        // The first new point may land in a bucket that already holds points: continue that bucket's summary.
        var continued = new List<(int Level, long Bucket)>();
        for (var t = 0; t < tiers.Length; t++)
        {
            openBucket[t] = points[0].Step >> tiers[t];
            if (state is not null && (state.RolledUpToStep >> tiers[t]) == openBucket[t]) continued.Add((tiers[t], openBucket[t]));
        }
        var stored = await ReadBucketsAsync(connection, transaction, runId, name, continued, cancellationToken);
        for (var t = 0; t < tiers.Length; t++) open[t] = stored.TryGetValue(tiers[t], out var summary) ? summary : new M4Bucket();
        foreach (var p in points)
        {
            for (var t = 0; t < tiers.Length; t++)
            {
                var b = p.Step >> tiers[t];
                if (b != openBucket[t])
                {
                    summaries.Add((tiers[t], openBucket[t], open[t]));
                    open[t] = new M4Bucket();
                    openBucket[t] = b;
                }
                open[t].Add(p);
            }
        }
        for (var t = 0; t < tiers.Length; t++) summaries.Add((tiers[t], openBucket[t], open[t]));
        await WriteBucketsAsync(connection, transaction, runId, name, state, summaries, cancellationToken);

        await using var series = connection.CreateCommand();
        series.Transaction = transaction;
        series.CommandText = $"""
            INSERT INTO "CurveSeries" ("RunId", "Name", "RolledUpToStep", "Count", "MinStep", "MaxStep") VALUES (@run, @name, @last, @count, @first, @last)
            ON CONFLICT ("RunId", "Name") DO UPDATE SET "RolledUpToStep" = @last, "Count" = "CurveSeries"."Count" + @count,
              "MinStep" = {connection.Least()}("CurveSeries"."MinStep", @first), "MaxStep" = {connection.Greatest()}("CurveSeries"."MaxStep", @last)
            """;
        series.Add("@run", runId);
        series.Add("@name", name);
        series.Add("@first", points[0].Step);
        series.Add("@last", points[^1].Step);
        series.Add("@count", (long)points.Count);
        await series.ExecuteNonQueryAsync(cancellationToken);
    }

    private const string RollupColumns = "Count, FirstStep, FirstValue, FirstTime, LastStep, LastValue, LastTime, MinStep, MinValue, MinTime, MaxStep, MaxValue, MaxTime, NanStep, NanTime";

    private static readonly string[] Columns = RollupColumns.Split(", ");

    /// <summary>The summary columns quoted for SQL, in <see cref="Columns"/>' order.</summary>
    private static readonly string QuotedColumns = string.Join(", ", Columns.Select(c => $"\"{c}\""));

    /// <summary>
    /// Stores the summaries of a chunk (each bucket once). SQLite runs a prepared upsert per bucket in-process.
    /// PostgreSQL takes them in two statements, since a statement there costs a round trip and a plan, and a chunk of
    /// a busy run holds thousands of buckets: the bucket of each tier that holds the rolled-up step may be stored
    /// already and is upserted; every later bucket is new (the series' lock is held and its state was read under
    /// it) and goes in by binary COPY, which costs a third of an upsert's row.
    /// </summary>
    private static async Task WriteBucketsAsync(DbConnection connection, DbTransaction transaction, long runId, string name, SeriesState? state,
        List<(int Level, long Bucket, M4Bucket Summary)> summaries, CancellationToken cancellationToken)
    {
        if (!connection.IsPostgres())
        {
            await using var upsert = PrepareUpsert(connection, transaction, runId, name);
            foreach (var (level, bucket, summary) in summaries) await WriteBucketAsync(upsert, level, bucket, summary, cancellationToken);
            return;
        }
        var continued = new List<(int Level, long Bucket, M4Bucket Summary)>();
        var fresh = new List<(int Level, long Bucket, M4Bucket Summary)>();
        foreach (var summary in summaries)
            (state is not null && summary.Bucket <= state.RolledUpToStep >> summary.Level ? continued : fresh).Add(summary);
        if (fresh.Count > 0) await CopyBucketsAsync((Npgsql.NpgsqlConnection)connection, runId, name, fresh, cancellationToken);
        if (continued.Count > 0) await UpsertBucketsAsync(connection, transaction, runId, name, continued, cancellationToken);
    }

    private static async Task CopyBucketsAsync(Npgsql.NpgsqlConnection connection, long runId, string name,
        List<(int Level, long Bucket, M4Bucket Summary)> summaries, CancellationToken cancellationToken)
    {
        await using var stream = await connection.BeginRawBinaryCopyAsync(
            $"""COPY "CurveRollups" ("RunId", "Name", "Level", "Bucket", {QuotedColumns}) FROM STDIN (FORMAT BINARY)""",
            cancellationToken);
        var rows = new BinaryCopyWriter(stream, flushWhenFull: false);
        foreach (var (level, bucket, m4) in summaries)
        {
            if (rows.Full) await rows.FlushAsync(cancellationToken);
            rows.StartRow((short)(4 + Columns.Length));
            rows.Int64(runId);
            rows.Text(name);
            rows.Int32(level);
            rows.Int64(bucket);
            rows.Int64(m4.Count);
            foreach (var (_, pick) in Corners)
            {
                if (m4.HasValue) CopyPoint(rows, pick(m4), withValue: true);
                else for (var i = 0; i < 3; i++) rows.Null();
            }
            if (m4.HasNaN) CopyPoint(rows, m4.FirstNaN, withValue: false);
            else for (var i = 0; i < 2; i++) rows.Null();
        }
        await rows.CompleteAsync(cancellationToken);
    }

    private static void CopyPoint(BinaryCopyWriter rows, SeriesPoint point, bool withValue)
    {
        rows.Int64(point.Step);
        if (withValue) rows.Double(point.Value);
        rows.Int64(point.TimeMs);
    }

    private static async Task UpsertBucketsAsync(DbConnection connection, DbTransaction transaction, long runId, string name,
        List<(int Level, long Bucket, M4Bucket Summary)> summaries, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        var types = Columns.Select(c => c == "Count" || c.EndsWith("Step") || c.EndsWith("Time") ? "bigint[]" : "double precision[]");
        command.CommandText = $"""INSERT INTO "CurveRollups" ("RunId", "Name", "Level", "Bucket", {QuotedColumns}) """ +
                              $"SELECT @run, @name, u.* FROM unnest(@level::integer[], @bucket::bigint[], {string.Join(", ", Columns.Zip(types, (c, t) => $"@{c}::{t}"))}) AS u " +
                              """ON CONFLICT ("RunId", "Name", "Level", "Bucket") DO UPDATE SET """ +
                              string.Join(", ", Columns.Select(c => $"\"{c}\" = excluded.\"{c}\""));
        command.Add("@run", runId);
        command.Add("@name", name);
        command.Add("@level", summaries.Select(s => s.Level).ToArray());
        command.Add("@bucket", summaries.Select(s => s.Bucket).ToArray());
        command.Add("@Count", summaries.Select(s => s.Summary.Count).ToArray());
        foreach (var (prefix, pick) in Corners)
        {
            command.Add($"@{prefix}Step", summaries.Select(s => s.Summary.HasValue ? pick(s.Summary).Step : (long?)null).ToArray());
            command.Add($"@{prefix}Value", summaries.Select(s => s.Summary.HasValue ? pick(s.Summary).Value : (double?)null).ToArray());
            command.Add($"@{prefix}Time", summaries.Select(s => s.Summary.HasValue ? pick(s.Summary).TimeMs : (long?)null).ToArray());
        }
        command.Add("@NanStep", summaries.Select(s => s.Summary.HasNaN ? s.Summary.FirstNaN.Step : (long?)null).ToArray());
        command.Add("@NanTime", summaries.Select(s => s.Summary.HasNaN ? s.Summary.FirstNaN.TimeMs : (long?)null).ToArray());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The four points an M4 summary keeps, by their column prefix.</summary>
    private static readonly (string Prefix, Func<M4Bucket, SeriesPoint> Pick)[] Corners =
        [("First", m => m.First), ("Last", m => m.Last), ("Min", m => m.Min), ("Max", m => m.Max)];

    private static Upsert PrepareUpsert(DbConnection connection, DbTransaction transaction, long runId, string name)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"""INSERT INTO "CurveRollups" ("RunId", "Name", "Level", "Bucket", {QuotedColumns}) """ +
                              $"VALUES (@run, @name, @level, @bucket, {string.Join(", ", Columns.Select(c => "@" + c))}) " +
                              """ON CONFLICT ("RunId", "Name", "Level", "Bucket") DO UPDATE SET """ +
                              string.Join(", ", Columns.Select(c => $"\"{c}\" = excluded.\"{c}\""));
        command.Add("@run", runId);
        command.Add("@name", name);
        var parameters = new Dictionary<string, DbParameter>
        {
            ["level"] = command.Add("@level", DbType.Int32),
            ["bucket"] = command.Add("@bucket", DbType.Int64),
        };
        foreach (var column in Columns) parameters[column] = command.Add("@" + column, column.EndsWith("Value") ? DbType.Double : DbType.Int64);
        return new Upsert(command, parameters);
    }

    private sealed record Upsert(DbCommand Command, Dictionary<string, DbParameter> P) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Command.DisposeAsync();
    }

    private static async Task WriteBucketAsync(Upsert upsert, int level, long bucket, M4Bucket m4, CancellationToken cancellationToken)
    {
        var p = upsert.P;
        p["level"].Value = level;
        p["bucket"].Value = bucket;
        p["Count"].Value = m4.Count;
        SetPoint(p, "First", m4.HasValue, m4.First);
        SetPoint(p, "Last", m4.HasValue, m4.Last);
        SetPoint(p, "Min", m4.HasValue, m4.Min);
        SetPoint(p, "Max", m4.HasValue, m4.Max);
        p["NanStep"].Value = m4.HasNaN ? m4.FirstNaN.Step : DBNull.Value;
        p["NanTime"].Value = m4.HasNaN ? m4.FirstNaN.TimeMs : DBNull.Value;
        await upsert.Command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static void SetPoint(Dictionary<string, DbParameter> p, string prefix, bool has, SeriesPoint point)
    {
        p[prefix + "Step"].Value = has ? point.Step : DBNull.Value;
        p[prefix + "Value"].Value = has ? point.Value : DBNull.Value;
        p[prefix + "Time"].Value = has ? point.TimeMs : DBNull.Value;
    }

    /// <summary>The stored summaries of the given buckets (one per tier at most), by tier, in one query.</summary>
    private static async Task<Dictionary<int, M4Bucket>> ReadBucketsAsync(DbConnection connection, DbTransaction transaction, long runId, string name,
        List<(int Level, long Bucket)> buckets, CancellationToken cancellationToken)
    {
        var found = new Dictionary<int, M4Bucket>();
        if (buckets.Count == 0) return found;
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        // One lookup of the key per bucket: an OR of the pairs made PostgreSQL scan every bucket of the series.
        command.CommandText = string.Join(" UNION ALL ", buckets.Select((_, i) =>
            $"""SELECT "Level", {QuotedColumns} FROM "CurveRollups" WHERE "RunId" = @run AND "Name" = @name AND "Level" = @level{i} AND "Bucket" = @bucket{i}"""));
        command.Add("@run", runId);
        command.Add("@name", name);
        for (var i = 0; i < buckets.Count; i++)
        {
            command.Add($"@level{i}", buckets[i].Level);
            command.Add($"@bucket{i}", buckets[i].Bucket);
        }
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            CurveReadMeter.Count();
            found[reader.GetInt32(0)] = ReadSummary(reader);
        }
        return found;
    }

    /// <summary>The stored summaries of buckets [first, last] of one tier, in bucket order.</summary>
    public static async Task<List<(long Bucket, M4Bucket Summary)>> ReadBucketsAsync(DbConnection connection, long runId, string name, int level, long first, long last, CancellationToken cancellationToken, DbTransaction? transaction = null)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"""SELECT "Bucket", {QuotedColumns} FROM "CurveRollups" WHERE "RunId" = @run AND "Name" = @name AND "Level" = @level AND "Bucket" >= @first AND "Bucket" <= @last ORDER BY "Bucket" """;
        command.Add("@run", runId);
        command.Add("@name", name);
        command.Add("@level", level);
        command.Add("@first", first);
        command.Add("@last", last);
        var rows = new List<(long, M4Bucket)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            CurveReadMeter.Count();
            rows.Add((reader.GetInt64(0), ReadSummary(reader)));
        }
        return rows;
    }

    /// <summary>The summary in columns 1 on (column 0 names its bucket or tier).</summary>
    private static M4Bucket ReadSummary(DbDataReader reader)
    {
        var m4 = new M4Bucket { Count = reader.GetInt64(1), HasValue = !reader.IsDBNull(2) };
        if (m4.HasValue)
        {
            m4.First = ReadPoint(reader, 2);
            m4.Last = ReadPoint(reader, 5);
            m4.Min = ReadPoint(reader, 8);
            m4.Max = ReadPoint(reader, 11);
        }
        if (!reader.IsDBNull(14))
        {
            m4.HasNaN = true;
            m4.FirstNaN = new SeriesPoint(reader.GetInt64(14), double.NaN, reader.GetInt64(15));
        }
        return m4;
    }

    private static SeriesPoint ReadPoint(DbDataReader reader, int ordinal) =>
        new(reader.GetInt64(ordinal), reader.GetDouble(ordinal + 1), reader.GetInt64(ordinal + 2));
}

/// <summary>
/// Counts the point and summary rows that chart reads fetch in the current async flow, so that a test can check a
/// read stays bounded whatever the steps, by rows rather than by time.
/// </summary>
public static class CurveReadMeter
{
    private static readonly AsyncLocal<System.Runtime.CompilerServices.StrongBox<long>?> Current = new();

    public static System.Runtime.CompilerServices.StrongBox<long> Start() => Current.Value = new System.Runtime.CompilerServices.StrongBox<long>();

    internal static void Count()
    {
        if (Current.Value is { } rows) rows.Value++;
    }
}
