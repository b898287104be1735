using System.Diagnostics;
using Microsoft.AspNetCore.SignalR.Client;
using Npgsql;
using NpgsqlTypes;
using Portal.Contracts;
using Portal.Testing;

namespace Portal.Benchmarks.Ingestion;

/// <summary>
/// The ingestion benchmark on PostgreSQL: agents -> portal instance(s) -> PostgreSQL -> /hubs/metrics viewers, end to
/// end (every point stored and received by every viewer), against PostgreSQL's own binary COPY into a table of the
/// same shape (columns and primary key of MetricPoints) on the same server, measured right before and after.
/// With instances=2 the agents and viewers are spread over two instances sharing the database and a Redis (the
/// viewers then receive points stored by either instance through the SignalR backplane).
/// The servers are the test run's private PostgreSQL and Redis (Debian's binaries, see TestServers).
/// Each instance stores points through Portal:Runs:PostgresWriterLanes connections (the portal's default unless given).
/// Usage: ingestion-postgres [instances=1] [agents=4] [batchesPerAgent=50] [viewers=10] [writerLanesPerInstance]
/// </summary>
public sealed class PostgresIngestionBenchmark : IBenchmark
{
    public string Name => "ingestion-postgres";
    public string Description => "metric points/s agents -> instance(s) -> PostgreSQL -> viewers, against PostgreSQL's binary COPY ceiling";

    public async Task<int> RunAsync(string[] args)
    {
        var instances = args.Length > 0 ? int.Parse(args[0]) : 1;
        var agents = args.Length > 1 ? int.Parse(args[1]) : 4;
        var batchesPerAgent = args.Length > 2 ? int.Parse(args[2]) : 50;
        var viewers = args.Length > 3 ? int.Parse(args[3]) : 10;
        var lanes = args.Length > 4 ? int.Parse(args[4]) : new Portal.Web.Features.Runs.RunsOptions().PostgresWriterLanes;
        const int PerBatch = AgentProtocol.MaxPointsPerBatch;
        var total = (long)agents * batchesPerAgent * PerBatch;
        Console.WriteLine($"{Environment.ProcessorCount} cores, {instances} instance(s) with {lanes} writer lane(s) each, {agents} agents x {batchesPerAgent} batches x {PerBatch} points = {total:N0} points, {viewers} viewers");
        try
        {
            var before = MeasureCopyCeiling(total);
            Console.WriteLine($"ceiling before: PostgreSQL binary COPY into a MetricPoints-shaped table, 50,000 rows per COPY: {before:N0} points/s");
            var endToEnd = await MeasureEndToEndAsync(instances, lanes, agents, batchesPerAgent, viewers);
            Console.WriteLine($"end to end: {endToEnd:N0} points/s stored and delivered to each of {viewers} viewers");
            var after = MeasureCopyCeiling(total);
            var ceiling = (before + after) / 2;
            Console.WriteLine($"ceiling after: {after:N0} points/s; mean {ceiling:N0} points/s");
            Console.WriteLine($"ratio to ceiling: {endToEnd / ceiling:P0} (targets: >= 200,000 points/s and >= 50%)");
            return endToEnd >= 200_000 && endToEnd >= ceiling / 2 ? 0 : 1;
        }
        finally
        {
            TestServers.StopStarted();
        }
    }

    private static double MeasureCopyCeiling(long points)
    {
        var connectionString = TestServers.Postgres.CreateDatabase();
        try
        {
            using var connection = new NpgsqlConnection(connectionString);
            connection.Open();
            using (var create = new NpgsqlCommand("""CREATE TABLE ceiling (LIKE "MetricPoints" INCLUDING ALL)""", connection)) create.ExecuteNonQuery();
            string[] names = ["loss", "loss_box", "loss_obj", "lr"];
            var wall = DateTimeOffset.UtcNow;
            var cpu = CpuTime.Now(TestServers.Postgres.ProcessId);
            var clock = Stopwatch.StartNew();
            for (long i = 0; i < points;)
            {
                using var transaction = connection.BeginTransaction();
                using (var import = connection.BeginBinaryImport("""COPY ceiling ("RunId", "Name", "Step", "Value", "WallTime") FROM STDIN (FORMAT BINARY)"""))
                {
                    for (var j = 0; j < 50_000 && i < points; j++, i++)
                    {
                        import.StartRow();
                        import.Write(1 + i % 4, NpgsqlDbType.Bigint);
                        import.Write(names[(i / 4) % 4], NpgsqlDbType.Text);
                        import.Write(i / 16, NpgsqlDbType.Bigint);
                        import.Write(1.0 / (i + 1), NpgsqlDbType.Double);
                        import.Write(wall, NpgsqlDbType.TimestampTz);
                    }
                    import.Complete();
                }
                transaction.Commit();
            }
            var rate = points / clock.Elapsed.TotalSeconds;
            Console.WriteLine($"  {(CpuTime.Now(TestServers.Postgres.ProcessId) - cpu).PerMillion(points)}");
            return rate;
        }
        finally
        {
            TestServers.Postgres.DropDatabase(connectionString);
        }
    }

    private const int WarmupBatchesPerRound = 20;
    private const int MaxWarmupRounds = 20;
    private const int WarmJitMethods = 100;

    private static async Task<double> MeasureEndToEndAsync(int instances, int lanes, int agents, int batchesPerAgent, int viewers)
    {
        var database = TestServers.Postgres.CreateDatabase();
        var apps = new List<PortalAppFactory>();
        for (var i = 0; i < instances; i++)
        {
            var app = LivePortal.CreateApp().UsePostgres(database);
            if (instances > 1) app.Settings["Portal:Redis"] = TestServers.Redis.Configuration;
            app.Settings["Portal:Runs:PostgresWriterLanes"] = lanes.ToString(System.Globalization.CultureInfo.InvariantCulture);
            _ = app.ServerAddress; // the first migrates and seeds before the next starts
            apps.Add(app);
        }
        try
        {
            var secret = await LivePortal.AddAgentTokenAsync(apps[0]);
            var clients = new List<(HubConnection Hub, long RunId)>();
            for (var a = 0; a < agents; a++) clients.Add(await LivePortal.ConnectAgentWithRunAsync(apps[a % instances], secret, $"bench-{a}", a));

            var delivered = new long[viewers];
            var connections = new List<HubConnection>();
            var cookies = new Dictionary<int, System.Net.CookieContainer>();
            for (var v = 0; v < viewers; v++)
            {
                var viewer = v;
                var app = apps[v % instances];
                if (!cookies.TryGetValue(v % instances, out var jar)) cookies[v % instances] = jar = await LivePortal.SignInAsync(app.ServerAddress, "mentor1");
                connections.Add(await LivePortal.ConnectViewerAsync(app.ServerAddress, jar, clients.Select(c => c.RunId), null,
                    message => Interlocked.Add(ref delivered[viewer], message.Decode().Steps.Length)));
            }

            // Warm-up: a portal that has run for a while has compiled its hot paths at full optimization (tiered
            // compilation) and sized its buffers; the measured phase should see that state, not start-up. On 2 busy
            // cores the JIT's background tier-up lags far behind (after 2M points the hot paths were still being
            // instrumented), so rounds go on until one compiles fewer than WarmJitMethods methods. The runs then go
            // on from where the warm-up left them, in increasing steps as training does, so the measured phase also
            // keeps the chart tiers current (steps below the rolled-up ones would be left out of them).
            var warmBatches = 0;
            for (var round = 1; round <= MaxWarmupRounds; round++)
            {
                var jitBefore = System.Runtime.JitInfo.GetCompiledMethodCount();
                var first = warmBatches;
                await Task.WhenAll(clients.Select(async c =>
                {
                    for (var b = first; b < first + WarmupBatchesPerRound; b++)
                        await LivePortal.SendAsync(c.Hub, c.RunId, -1 - b, Points((long)b * AgentProtocol.MaxPointsPerBatch / 4, AgentProtocol.MaxPointsPerBatch));
                }));
                warmBatches += WarmupBatchesPerRound;
                await WaitForViewersAsync(delivered, (long)agents * warmBatches * AgentProtocol.MaxPointsPerBatch, TimeSpan.FromSeconds(120));
                var compiled = System.Runtime.JitInfo.GetCompiledMethodCount() - jitBefore;
                Console.WriteLine($"  warm-up round {round}: {compiled:N0} methods compiled");
                if (compiled < WarmJitMethods) break;
            }
            var warm = (long)agents * warmBatches * AgentProtocol.MaxPointsPerBatch;

            var batches = Enumerable.Range(warmBatches, batchesPerAgent).Select(b => Points((long)b * AgentProtocol.MaxPointsPerBatch / 4, AgentProtocol.MaxPointsPerBatch)).ToList();
            var total = (long)agents * batchesPerAgent * AgentProtocol.MaxPointsPerBatch;
            var cpu = CpuTime.Now(TestServers.Postgres.ProcessId);
            Console.WriteLine($"  warm-up done ({warm:N0} points); measuring");
            var (jitMethods, jitTime) = (System.Runtime.JitInfo.GetCompiledMethodCount(), System.Runtime.JitInfo.GetCompilationTime());
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(clients.Select(async c =>
            {
                for (var b = 0; b < batchesPerAgent; b++) await LivePortal.SendAsync(c.Hub, c.RunId, b, batches[b]);
            }));
            var acked = clock.Elapsed;
            await WaitForViewersAsync(delivered, warm + total, TimeSpan.FromSeconds(300));
            var elapsed = clock.Elapsed;
            var spent = CpuTime.Now(TestServers.Postgres.ProcessId) - cpu;

            var stored = await apps[0].WithDbAsync(db => Task.FromResult(db.MetricPoints.LongCount()));
            Console.WriteLine($"  all acks (all stored) after {acked.TotalSeconds:0.00} s, all {viewers} viewers served after {elapsed.TotalSeconds:0.00} s; " +
                              $"rows stored {stored:N0} (expected {warm + total:N0}); store-only rate {total / acked.TotalSeconds:N0} points/s");
            Console.WriteLine($"  {spent.PerMillion(total)}");
            Console.WriteLine($"  JIT during the measured phase: {System.Runtime.JitInfo.GetCompiledMethodCount() - jitMethods:N0} methods, " +
                              $"{(System.Runtime.JitInfo.GetCompilationTime() - jitTime).TotalSeconds:0.00} s");
            if (stored != warm + total) throw new InvalidOperationException("stored count differs");
            await Task.WhenAll(connections.Select(c => c.DisposeAsync().AsTask()));
            foreach (var (hub, _) in clients) await hub.DisposeAsync();
            return total / elapsed.TotalSeconds;
        }
        finally
        {
            foreach (var app in apps) await app.DisposeAsync();
            TestServers.Postgres.DropDatabase(database);
        }
    }

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

    private static List<MetricPointDto> Points(long firstStep, int count)
    {
        string[] names = ["loss", "loss_box", "loss_obj", "lr"];
        var now = DateTimeOffset.UtcNow;
        return Enumerable.Range(0, count).Select(i => new MetricPointDto(names[i % names.Length], firstStep + i / names.Length, 1.0 / (i + 1), now)).ToList();
    }
}
