using System.Diagnostics;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Data.Sqlite;
using Portal.Contracts;

namespace Portal.Benchmarks.Ingestion;

/// <summary>
/// Metric points per second from agents into the database and out to viewers, end to end: several SignalR clients
/// (MessagePack, agent token, full batches) into a real portal on Kestrel, its batched writer and SQLite file, and
/// out to 10 viewers: real /hubs/metrics connections (JSON, sign-in cookie, as the browser's chart) that each watch
/// every metric of every run being sent and count the points they receive. End to end is done when every point is
/// stored and every viewer has received every point. The ceiling is the plain prepared-INSERT rate of SQLite on the same machine, same
/// table, measured in the same run. Usage: ingestion [agents=4] [batchesPerAgent=50] [viewers=10]
/// </summary>
public sealed class IngestionBenchmark : IBenchmark
{
    public string Name => "ingestion";
    public string Description => "metric points/s agents -> SQLite -> 10 /hubs/metrics viewers, against the plain SQLite insert ceiling";

    public async Task<int> RunAsync(string[] args)
    {
        var agents = args.Length > 0 ? int.Parse(args[0]) : 4;
        var batchesPerAgent = args.Length > 1 ? int.Parse(args[1]) : 50;
        var viewers = args.Length > 2 ? int.Parse(args[2]) : 10;
        const int PerBatch = AgentProtocol.MaxPointsPerBatch;
        var total = (long)agents * batchesPerAgent * PerBatch;
        Console.WriteLine($"{Environment.ProcessorCount} cores, {agents} agents x {batchesPerAgent} batches x {PerBatch} points = {total:N0} points, {viewers} viewers");

        // The machine is shared, so the ceiling is measured right before and right after, and their mean is used.
        var before = MeasureCeiling(total, 1);
        Console.WriteLine($"ceiling before: plain SQLite prepared single-row INSERT, one transaction per 50,000 rows: {before:N0} points/s");

        var endToEnd = await MeasureEndToEndAsync(agents, batchesPerAgent, viewers);
        Console.WriteLine($"end to end: {endToEnd:N0} points/s stored and delivered to each of {viewers} /hubs/metrics viewers");
        var after = MeasureCeiling(total, 1);
        var ceiling = (before + after) / 2;
        Console.WriteLine($"ceiling after: {after:N0} points/s; mean {ceiling:N0} points/s");
        Console.WriteLine($"ratio to ceiling: {endToEnd / ceiling:P0} (targets: >= 100,000 points/s and >= 50%)");
        return endToEnd >= 100_000 && endToEnd >= ceiling / 2 ? 0 : 1;
    }

    /// <summary>The same table and statement as the portal's writer, with nothing in front of it; rows per statement as given.</summary>
    private static double MeasureCeiling(long points, int rowsPerStatement)
    {
        var file = Path.Combine(Path.GetTempPath(), $"ceiling-{Guid.NewGuid():N}.db");
        try
        {
            using var connection = new SqliteConnection($"Data Source={file}");
            connection.Open();
            Exec(connection, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
            Exec(connection, "CREATE TABLE MetricPoints (RunId INTEGER NOT NULL, Name TEXT NOT NULL, Step INTEGER NOT NULL, Value REAL NOT NULL, " +
                             "WallTime INTEGER NOT NULL, CONSTRAINT PK_MetricPoints PRIMARY KEY (RunId, Name, Step));");
            using var insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO MetricPoints (RunId, Name, Step, Value, WallTime) VALUES " +
                string.Join(", ", Enumerable.Range(0, rowsPerStatement).Select(k => $"($r{k}, $n{k}, $s{k}, $v{k}, $w{k})")) +
                " ON CONFLICT (RunId, Name, Step) DO NOTHING";
            var p = Enumerable.Range(0, rowsPerStatement).Select(k => (
                R: insert.Parameters.Add($"$r{k}", SqliteType.Integer), N: insert.Parameters.Add($"$n{k}", SqliteType.Text),
                S: insert.Parameters.Add($"$s{k}", SqliteType.Integer), V: insert.Parameters.Add($"$v{k}", SqliteType.Real),
                W: insert.Parameters.Add($"$w{k}", SqliteType.Integer))).ToArray();
            insert.Prepare();
            var clock = Stopwatch.StartNew();
            var wall = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            string[] names = ["loss", "loss_box", "loss_obj", "lr"];
            for (long i = 0; i < points;)
            {
                using var transaction = connection.BeginTransaction();
                insert.Transaction = transaction;
                for (var j = 0; j < 50_000 && i < points; j += rowsPerStatement)
                {
                    foreach (var row in p)
                    {
                        row.R.Value = 1 + i % 4;
                        row.N.Value = names[(i / 4) % 4];
                        row.S.Value = i / 16;
                        row.V.Value = 1.0 / (i + 1);
                        row.W.Value = wall;
                        i++;
                    }
                    insert.ExecuteNonQuery();
                }
                transaction.Commit();
            }
            return points / clock.Elapsed.TotalSeconds;
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            foreach (var f in new[] { file, file + "-wal", file + "-shm" }) File.Delete(f);
        }
    }

    private static async Task<double> MeasureEndToEndAsync(int agents, int batchesPerAgent, int viewers)
    {
        using var app = LivePortal.CreateApp();
        var server = app.ServerAddress;
        var secret = await LivePortal.AddAgentTokenAsync(app);
        var clients = new List<(HubConnection Hub, long RunId)>();
        for (var a = 0; a < agents; a++) clients.Add(await LivePortal.ConnectAgentWithRunAsync(app, secret, $"bench-{a}", a));

        // Viewers: each watches every metric of every run, as a chart page's live feed, and decodes and counts what it receives.
        var cookies = await LivePortal.SignInAsync(server, "mentor1");
        var delivered = new long[viewers];
        var connections = new List<HubConnection>();
        for (var v = 0; v < viewers; v++)
        {
            var viewer = v;
            connections.Add(await LivePortal.ConnectViewerAsync(server, cookies, clients.Select(c => c.RunId), null,
                message => Interlocked.Add(ref delivered[viewer], message.Decode().Steps.Length)));
        }

        // Warm-up batch per agent (JIT, statement preparation), not counted. The measured batches go on after its
        // steps, as training does, so they also keep the chart tiers current.
        foreach (var (hub, runId) in clients)
            await LivePortal.SendAsync(hub, runId, -1, Points(0, AgentProtocol.MaxPointsPerBatch));
        var warm = (long)agents * AgentProtocol.MaxPointsPerBatch;
        await WaitForViewersAsync(delivered, warm, TimeSpan.FromSeconds(60));

        var batches = Enumerable.Range(1, batchesPerAgent).Select(b => Points((long)b * AgentProtocol.MaxPointsPerBatch / 4, AgentProtocol.MaxPointsPerBatch)).ToList();
        var total = (long)agents * batchesPerAgent * AgentProtocol.MaxPointsPerBatch;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(clients.Select(async c =>
        {
            for (var b = 0; b < batchesPerAgent; b++) await LivePortal.SendAsync(c.Hub, c.RunId, b, batches[b]);
        }));
        var acked = clock.Elapsed;
        await WaitForViewersAsync(delivered, warm + total, TimeSpan.FromSeconds(300));
        var elapsed = clock.Elapsed;

        var stored = await app.WithDbAsync(db => Task.FromResult(db.MetricPoints.LongCount()));
        Console.WriteLine($"  all acks (all stored) after {acked.TotalSeconds:0.00} s, all {viewers} viewers served after {elapsed.TotalSeconds:0.00} s; " +
                          $"rows stored {stored:N0} (expected {warm + total:N0}); store-only rate {total / acked.TotalSeconds:N0} points/s");
        if (stored != warm + total) throw new InvalidOperationException("stored count differs");
        await Task.WhenAll(connections.Select(c => c.DisposeAsync().AsTask()));
        foreach (var (hub, _) in clients) await hub.DisposeAsync();
        return total / elapsed.TotalSeconds;
    }

    /// <summary>Polls until every viewer has received <paramref name="expected"/> points; past the deadline it says how far each got.</summary>
    private static async Task WaitForViewersAsync(long[] delivered, long expected, TimeSpan limit)
    {
        var deadline = Stopwatch.StartNew();
        while (Enumerable.Range(0, delivered.Length).Any(v => Interlocked.Read(ref delivered[v]) < expected))
        {
            if (deadline.Elapsed > limit)
                throw new TimeoutException($"Viewers received {string.Join(", ", delivered.Select(d => d.ToString("N0")))} of {expected:N0} points after {limit.TotalSeconds} s.");
            await Task.Delay(1);
        }
    }

    /// <summary>A batch as a training loop produces it: a few metric names per step, consecutive steps.</summary>
    private static List<MetricPointDto> Points(long firstStep, int count)
    {
        string[] names = ["loss", "loss_box", "loss_obj", "lr"];
        var now = DateTimeOffset.UtcNow;
        return Enumerable.Range(0, count).Select(i => new MetricPointDto(names[i % names.Length], firstStep + i / names.Length, 1.0 / (i + 1), now)).ToList();
    }

    private static void Exec(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
