using System.Buffers;
using System.Diagnostics;
using MessagePack;
using Microsoft.AspNetCore.SignalR;
using Portal.Contracts;

namespace Portal.Benchmarks.Ingestion;

/// <summary>
/// Encoding and decoding one full agent batch (5,000 points, 4 metrics) as the hub protocol does it, with the same
/// serializer settings as SignalR's MessagePack protocol: <see cref="MetricBatch"/> in its column layout against the
/// same data as plain contractless MessagePack (a look-alike record without the formatter, which is what
/// <see cref="MetricBatch"/> was on the wire before). Rounds alternate between the two so that a change in the
/// machine's load hits both; the median round is reported. Usage: batch-wire [rounds=7] [batchesPerRound=100]
/// </summary>
public sealed class BatchWireBenchmark : IBenchmark
{
    public string Name => "batch-wire";
    public string Description => "ns and bytes per point to encode and decode a 5,000-point MetricBatch: columns vs contractless";

    /// <summary>The shape of <see cref="MetricBatch"/> without its formatter: one string-keyed map per point.</summary>
    public sealed record ContractlessBatch(long RunId, long BatchSequence, IReadOnlyList<MetricPointDto> Points);

    public Task<int> RunAsync(string[] args)
    {
        var rounds = args.Length > 0 ? int.Parse(args[0]) : 7;
        var batches = args.Length > 1 ? int.Parse(args[1]) : 100;
        var options = new MessagePackHubProtocolOptions().SerializerOptions;
        var points = AgentPoints(AgentProtocol.MaxPointsPerBatch);
        var columns = new Codec<MetricBatch>(new MetricBatch(17, 3, points), options);
        var contractless = new Codec<ContractlessBatch>(new ContractlessBatch(17, 3, points), options);
        if (!columns.Decode().Points.SequenceEqual(points) || !contractless.Decode().Points.SequenceEqual(points))
            throw new InvalidOperationException("A codec does not give back the points it was given.");

        Console.WriteLine($"{Environment.ProcessorCount} cores, load average {File.ReadAllText("/proc/loadavg").Trim()}");
        Console.WriteLine($"{rounds} rounds x {batches} batches x {points.Count} points, 4 metrics, {Environment.Version}");
        columns.Measure(batches / 5 + 1);
        contractless.Measure(batches / 5 + 1); // warm-up
        for (var r = 0; r < rounds; r++)
        {
            columns.Measure(batches);
            contractless.Measure(batches);
        }
        Console.WriteLine("| encoding | bytes per point | encode ns/point | decode ns/point | decode bytes allocated per point |");
        Console.WriteLine("|---|---|---|---|---|");
        columns.Report("columns (MetricBatchFormatter)", points.Count);
        contractless.Report("contractless map per point", points.Count);
        Console.WriteLine($"load average after: {File.ReadAllText("/proc/loadavg").Trim()}");
        return Task.FromResult(0);
    }

    /// <summary>What an agent sends: four metrics per step, the same name instances, wall times a few ms apart.</summary>
    private static List<MetricPointDto> AgentPoints(int count)
    {
        string[] names = ["train/loss", "train/loss_box", "train/loss_obj", "train/lr"];
        var random = new Random(7);
        var start = new DateTimeOffset(2026, 12, 3, 10, 0, 0, TimeSpan.Zero);
        return Enumerable.Range(0, count)
            .Select(i => new MetricPointDto(names[i % 4], 120_000 + i / 4, random.NextDouble() * 4, start.AddTicks(i / 4 * 31_250 + i % 4 * 17)))
            .ToList();
    }

    private sealed class Codec<T>(T batch, MessagePackSerializerOptions options)
    {
        private readonly ArrayBufferWriter<byte> _buffer = new(1 << 20);
        private readonly List<(double Encode, double Decode, double Allocated)> _rounds = [];
        private byte[] _bytes = MessagePackSerializer.Serialize(batch, options);

        public T Decode() => MessagePackSerializer.Deserialize<T>(_bytes, options);

        public void Measure(int batches)
        {
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < batches; i++)
            {
                _buffer.ResetWrittenCount(); // a pooled buffer, as SignalR writes into
                MessagePackSerializer.Serialize(_buffer, batch, options);
            }
            var encode = clock.Elapsed.TotalNanoseconds / batches;
            _bytes = _buffer.WrittenSpan.ToArray();

            var allocated = GC.GetAllocatedBytesForCurrentThread();
            clock.Restart();
            for (var i = 0; i < batches; i++) MessagePackSerializer.Deserialize<T>(_bytes, options);
            var decode = clock.Elapsed.TotalNanoseconds / batches;
            _rounds.Add((encode, decode, (GC.GetAllocatedBytesForCurrentThread() - allocated) / (double)batches));
        }

        public void Report(string name, int points)
        {
            var measured = _rounds.Skip(1).ToList(); // the first was the warm-up
            static double Median(IEnumerable<double> values) { var v = values.Order().ToList(); return v[v.Count / 2]; }
            Console.WriteLine($"| {name} | {_bytes.Length / (double)points:0.0} | {Median(measured.Select(r => r.Encode)) / points:0.0} " +
                              $"(rounds {measured.Min(r => r.Encode) / points:0.0}-{measured.Max(r => r.Encode) / points:0.0}) | " +
                              $"{Median(measured.Select(r => r.Decode)) / points:0.0} (rounds {measured.Min(r => r.Decode) / points:0.0}-{measured.Max(r => r.Decode) / points:0.0}) | " +
                              $"{Median(measured.Select(r => r.Allocated)) / points:0} |");
        }
    }
}
