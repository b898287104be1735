using System.Buffers;
using System.Diagnostics;
using MessagePack;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Portal.Contracts;

namespace Portal.Benchmarks.Ingestion;

/// <summary>
/// Encoding and decoding one full agent batch (5,000 points, 4 metrics) with SignalR's MessagePack settings:
/// <see cref="MetricBatch"/> in its column layout against the same data as plain contractless MessagePack (a
/// look-alike record without the formatter, which is what <see cref="MetricBatch"/> was on the wire before), each
/// through the serializer alone and as the whole SendMetrics invocation through <see cref="MessagePackHubProtocol"/>.
/// Rounds alternate between all four so that a change in the machine's load hits each; the median round is reported.
/// Usage: batch-wire [rounds=7] [batchesPerRound=100]
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
        var protocol = new MessagePackHubProtocol();
        var points = AgentPoints(AgentProtocol.MaxPointsPerBatch);
        MetricBatch columnsBatch = new(17, 3, points);
        ContractlessBatch contractlessBatch = new(17, 3, points);
        Codec[] codecs =
        [
            Codec.Serializer("columns (MetricBatchFormatter)", columnsBatch, options),
            Codec.Serializer("contractless map per point", contractlessBatch, options),
            Codec.HubMessage("hub message, columns", columnsBatch, protocol),
            Codec.HubMessage("hub message, contractless", contractlessBatch, protocol),
        ];
        foreach (var codec in codecs)
            if (!codec.DecodedPoints().SequenceEqual(points)) throw new InvalidOperationException($"{codec.Name} does not give back the points it was given.");

        Console.WriteLine($"{Environment.ProcessorCount} cores, load average {File.ReadAllText("/proc/loadavg").Trim()}");
        Console.WriteLine($"{rounds} rounds x {batches} batches x {points.Count} points, 4 metrics, {Environment.Version}");
        foreach (var codec in codecs) codec.Measure(batches / 5 + 1); // warm-up, not reported
        for (var r = 0; r < rounds; r++)
            foreach (var codec in codecs) codec.Measure(batches);
        Console.WriteLine("| encoding | bytes per point | encode ns/point (median, rounds) | decode ns/point (median, rounds) | decode bytes allocated per point |");
        Console.WriteLine("|---|---|---|---|---|");
        foreach (var codec in codecs) codec.Report(points.Count);
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

    /// <summary>One way of putting a batch into bytes and back; each encode writes into the same reused buffer.</summary>
    private sealed class Codec(string name, Action<ArrayBufferWriter<byte>> encode, Func<byte[], IReadOnlyList<MetricPointDto>> decode)
    {
        private readonly ArrayBufferWriter<byte> _buffer = new(1 << 20);
        private readonly List<(double Encode, double Decode, double Allocated)> _rounds = [];
        private byte[] _bytes = [];

        public string Name => name;

        public static Codec Serializer<T>(string name, T batch, MessagePackSerializerOptions options) where T : class =>
            new(name, buffer => MessagePackSerializer.Serialize(buffer, batch, options),
                bytes => Points(MessagePackSerializer.Deserialize<T>(bytes, options)));

        /// <summary>The whole SendMetrics invocation as the hub protocol frames and parses it on either end.</summary>
        public static Codec HubMessage<T>(string name, T batch, MessagePackHubProtocol protocol) where T : class
        {
            var binder = new Binder(typeof(T));
            var message = new InvocationMessage("1", nameof(IAgentHub.SendMetrics), [batch]);
            return new(name, buffer => protocol.WriteMessage(message, buffer), bytes =>
            {
                var input = new ReadOnlySequence<byte>(bytes);
                if (!protocol.TryParseMessage(ref input, binder, out var parsed) || parsed is not InvocationMessage invocation)
                    throw new InvalidOperationException($"The hub protocol did not read its own message back: {parsed}");
                return Points(invocation.Arguments[0]!);
            });
        }

        private static IReadOnlyList<MetricPointDto> Points(object batch) => batch switch
        {
            MetricBatch b => b.Points,
            ContractlessBatch b => b.Points,
            _ => throw new InvalidOperationException(batch.GetType().Name),
        };

        public IReadOnlyList<MetricPointDto> DecodedPoints()
        {
            _buffer.ResetWrittenCount();
            encode(_buffer);
            return decode(_buffer.WrittenSpan.ToArray());
        }

        public void Measure(int batches)
        {
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < batches; i++)
            {
                _buffer.ResetWrittenCount();
                encode(_buffer);
            }
            var encoded = clock.Elapsed.TotalNanoseconds / batches;
            _bytes = _buffer.WrittenSpan.ToArray();

            var allocated = GC.GetAllocatedBytesForCurrentThread();
            clock.Restart();
            for (var i = 0; i < batches; i++) decode(_bytes);
            var decoded = clock.Elapsed.TotalNanoseconds / batches;
            _rounds.Add((encoded, decoded, (GC.GetAllocatedBytesForCurrentThread() - allocated) / (double)batches));
        }

        public void Report(int points)
        {
            var measured = _rounds.Skip(1).ToList(); // the first was the warm-up
            static double Median(IEnumerable<double> values) { var v = values.Order().ToList(); return v[v.Count / 2]; }
            string Range(Func<(double Encode, double Decode, double Allocated), double> of) =>
                $"{Median(measured.Select(of)) / points:0.0} ({measured.Min(of) / points:0.0}-{measured.Max(of) / points:0.0})";
            Console.WriteLine($"| {name} | {_bytes.Length / (double)points:0.0} | {Range(r => r.Encode)} | {Range(r => r.Decode)} | " +
                              $"{Median(measured.Select(r => r.Allocated)) / points:0} |");
        }
    }

    private sealed class Binder(Type batch) : IInvocationBinder
    {
        public IReadOnlyList<Type> GetParameterTypes(string methodName) => [batch];
        public Type GetReturnType(string invocationId) => typeof(MetricBatchAck);
        public Type GetStreamItemType(string streamId) => throw new NotSupportedException();
    }
}
