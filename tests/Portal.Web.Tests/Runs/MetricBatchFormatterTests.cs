using System.Buffers;
using MessagePack;
using MessagePack.Resolvers;
using Portal.Contracts;

namespace Portal.Web.Tests.Runs;

public sealed class MetricBatchFormatterTests
{
    private static readonly MessagePackSerializerOptions Options = MetricBatchWire.HubOptions;

    private static MetricBatch? RoundTrip(MetricBatch? batch) =>
        MessagePackSerializer.Deserialize<MetricBatch?>(MessagePackSerializer.Serialize(batch, Options), Options);

    private static MessagePackSerializationException Refused(byte[] bytes) =>
        Assert.Throws<MessagePackSerializationException>(() => MessagePackSerializer.Deserialize<MetricBatch>(bytes, Options));

    /// <summary>The innermost message: the serializer wraps the formatter's own exception in one naming the type.</summary>
    private static string Why(Exception e) => e.InnerException is { } inner ? Why(inner) : e.Message;

    private static void AssertSame(IReadOnlyList<MetricPointDto> expected, IReadOnlyList<MetricPointDto> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Name, actual[i].Name);
            Assert.Equal(expected[i].Step, actual[i].Step);
            Assert.Equal(BitConverter.DoubleToInt64Bits(expected[i].Value), BitConverter.DoubleToInt64Bits(actual[i].Value));
            Assert.True(expected[i].WallTime.EqualsExact(actual[i].WallTime), $"point {i}: {expected[i].WallTime:O} came back as {actual[i].WallTime:O}");
        }
    }

    [Fact]
    public void Edge_values_steps_and_wall_times_come_back_bit_for_bit()
    {
        var now = DateTimeOffset.UtcNow;
        double[] values =
        [
            double.NaN, BitConverter.Int64BitsToDouble(0x7FF0_0000_0000_0001), BitConverter.Int64BitsToDouble(unchecked((long)0xFFF8_0000_DEAD_BEEF)),
            double.PositiveInfinity, double.NegativeInfinity, -0.0, 0.0, double.Epsilon, -double.Epsilon, 2.2250738585072009e-308,
            double.MaxValue, double.MinValue, 1.0 / 3,
        ];
        long[] steps = [0, -1, long.MinValue, long.MaxValue, 1, 2, 3, 4, 5, 6, 7, 8, 9];
        DateTimeOffset[] times =
        [
            now, now.AddTicks(1), DateTimeOffset.MinValue, DateTimeOffset.MaxValue, DateTimeOffset.UnixEpoch, now,
            new(2026, 12, 3, 10, 0, 0, 1, TimeSpan.Zero), now, now, now, now, now, now,
        ];
        var points = values.Select((v, i) => new MetricPointDto(i % 2 == 0 ? "train/loss" : "λ/验证", steps[i], v, times[i])).ToList();
        var back = RoundTrip(new MetricBatch(42, 7, points))!;
        Assert.Equal(42, back.RunId);
        Assert.Equal(7, back.BatchSequence);
        AssertSame(points, back.Points);
    }

    [Fact]
    public void Offsets_are_kept_when_a_point_has_one_and_the_instant_is_the_same()
    {
        var instant = new DateTimeOffset(2026, 12, 3, 10, 0, 0, TimeSpan.Zero).AddTicks(1234567);
        DateTimeOffset[] times =
        [
            instant, instant.ToOffset(TimeSpan.FromHours(5.5)), instant.ToOffset(TimeSpan.FromHours(-14)), instant.ToOffset(TimeSpan.FromHours(14)),
            new DateTimeOffset(DateTime.MinValue.AddHours(1), TimeSpan.FromHours(1)), new DateTimeOffset(DateTime.MaxValue.AddHours(-1), TimeSpan.FromHours(-1)),
        ];
        var points = times.Select((t, i) => new MetricPointDto("lr", i, i, t)).ToList();
        var back = RoundTrip(new MetricBatch(1, 1, points))!;
        AssertSame(points, back.Points);
        Assert.Equal(instant.UtcTicks, back.Points[1].WallTime.UtcTicks);
    }

    [Fact]
    public void An_empty_batch_a_batch_without_points_list_and_no_batch_come_back_as_they_went()
    {
        Assert.Empty(RoundTrip(new MetricBatch(3, 4, []))!.Points);
        var noList = RoundTrip(new MetricBatch(3, 4, null!))!;
        Assert.Equal((3L, 4L), (noList.RunId, noList.BatchSequence));
        Assert.Null(noList.Points);
        Assert.Null(RoundTrip(null));
    }

    [Fact]
    public void Null_and_empty_names_travel_for_the_portal_to_refuse_them()
    {
        var now = DateTimeOffset.UtcNow;
        List<MetricPointDto> points = [new(null!, 1, 1, now), new("", 2, 2, now), new("loss", 3, 3, now), new(null!, 4, 4, now)];
        AssertSame(points, RoundTrip(new MetricBatch(1, 1, points))!.Points);
    }

    [Theory]
    [InlineData(256)] // one-byte name indexes
    [InlineData(257)] // two-byte
    [InlineData(65_537)] // four-byte
    public void Every_point_keeps_its_name_however_many_names_a_batch_has(int names)
    {
        var now = DateTimeOffset.UtcNow;
        var points = Enumerable.Range(0, names + 10).Select(i => new MetricPointDto($"metric{i % names}", i, i, now)).ToList();
        AssertSame(points, RoundTrip(new MetricBatch(1, 1, points))!.Points);
    }

    [Fact]
    public void Decoded_points_share_one_string_per_name_even_when_the_sender_had_copies()
    {
        var now = DateTimeOffset.UtcNow;
        var points = Enumerable.Range(0, 100).Select(i => new MetricPointDto(new string(i % 2 == 0 ? "loss" : "lr"), i, i, now)).ToList();
        var bytes = MessagePackSerializer.Serialize(new MetricBatch(1, 1, points), Options);
        var back = MessagePackSerializer.Deserialize<MetricBatch>(bytes, Options).Points;
        Assert.Equal(2, back.Select(p => p.Name).Distinct<string>(ReferenceEqualityComparer.Instance).Count());
        Assert.Equal(1, bytes.AsSpan().Count("loss"u8)); // and the writer sent each name once
    }

    [Fact]
    public void A_full_batch_takes_at_most_26_bytes_a_point_against_over_50_contractless()
    {
        var start = DateTimeOffset.UtcNow;
        string[] names = ["train/loss", "train/loss_box", "train/loss_obj", "train/lr"];
        var points = Enumerable.Range(0, AgentProtocol.MaxPointsPerBatch)
            .Select(i => new MetricPointDto(names[i % 4], i / 4, 1.0 / (i + 1), start.AddMilliseconds(i))).ToList();
        var columns = MessagePackSerializer.Serialize(new MetricBatch(1, 1, points), Options).Length;
        var contractless = MessagePackSerializer.Serialize(points, Options.WithResolver(ContractlessStandardResolver.Instance)).Length;
        Assert.InRange(columns, 1, 26 * points.Count);
        Assert.True(contractless > 50 * points.Count, $"contractless {contractless} bytes");
    }

    [Fact]
    public void A_batch_that_arrives_in_many_buffer_segments_reads_the_same()
    {
        var now = DateTimeOffset.UtcNow;
        var points = Enumerable.Range(0, 1000).Select(i => new MetricPointDto(i % 3 == 0 ? "a" : "b", i, Math.Sqrt(i), now.AddSeconds(i))).ToList();
        var bytes = MessagePackSerializer.Serialize(new MetricBatch(1, 1, points), Options);
        var back = MessagePackSerializer.Deserialize<MetricBatch>(Segments.Of(bytes, 333), Options);
        AssertSame(points, back.Points);
    }

    [Fact]
    public void The_map_that_agents_sent_before_the_columns_is_still_read()
    {
        var now = DateTimeOffset.UtcNow;
        List<MetricPointDto> points = [new("loss", 1, double.NaN, now), new("lr", 1, 0.01, now.ToOffset(TimeSpan.FromHours(2)))];
        var legacy = MessagePackSerializer.Serialize(new LegacyMetricBatch(5, 6, points), Options);
        var back = MessagePackSerializer.Deserialize<MetricBatch>(legacy, Options);
        Assert.Equal((5L, 6L), (back.RunId, back.BatchSequence));
        AssertSame(points, back.Points);
        Assert.Null(MessagePackSerializer.Deserialize<MetricBatch>(MessagePackSerializer.Serialize(new LegacyMetricBatch(5, 6, null), Options), Options).Points);
    }

    [Fact]
    public void A_null_point_is_refused_when_the_batch_is_written()
    {
        var e = Assert.Throws<MessagePackSerializationException>(() =>
            MessagePackSerializer.Serialize(new MetricBatch(1, 1, [new("loss", 1, 1, DateTimeOffset.UtcNow), null!]), Options));
        Assert.Contains("Point 1 of the metric batch is null", Why(e));
    }

    [Fact]
    public void The_hand_written_valid_batch_reads_so_the_malformed_cases_below_test_one_fault_each()
    {
        var batch = MessagePackSerializer.Deserialize<MetricBatch>(MetricBatchWire.Valid(9, 8).ToBytes(), Options);
        Assert.Equal(new[] { 1L, 2L }, batch.Points.Select(p => p.Step));
        Assert.Equal(MetricBatchWire.Time.AddTicks(1), batch.Points[1].WallTime);
    }

    public static TheoryData<string, MetricBatchWire, string> Malformed()
    {
        var valid = MetricBatchWire.Valid();
        return new()
        {
            { "more fields", valid with { Fields = 10 }, "it has 10 fields instead of 9" },
            { "negative count", valid with { Count = -1 }, "its point count is -1" },
            { "count larger than the message", valid with { Count = int.MaxValue }, "it claims 2147483647 points but only" },
            { "count larger than the columns", valid with { Count = 3 }, "it claims 3 points but only" },
            { "more names than points", valid with { Count = 0, Names = ["a", "b"], Indexes = [], Steps = [], Values = [], Ticks = [] }, "it has 2 names for 0 points" },
            { "count smaller than the columns", valid with { Count = 1 }, "its name indexes take 2 bytes instead of 1" },
            { "short steps", valid with { Steps = MetricBatchWire.Int64s(1) }, "its steps take 8 bytes instead of 16" },
            { "missing values", valid with { Values = null, Offsets = MetricBatchWire.Int16s(0, 0) }, "its values are not a bin block" },
            { "odd offsets", valid with { Offsets = [1, 2, 3] }, "its offsets take 3 bytes instead of 4" },
            { "index out of range", valid with { Indexes = [0, 1] }, "point 1 names metric 1 of 1" },
            { "points but no names", valid with { Names = [] }, "point 0 names metric 0 of 0" },
            { "null name table", valid with { Names = null }, "it has no name table" },
            { "columns without a count", valid with { Count = null }, "it has columns but no point count" },
            { "wall time before year 1", valid with { Ticks = MetricBatchWire.Int64s(-1, 0) }, "point 0 has a wall time out of range" },
            { "offset beyond 14 hours", valid with { Offsets = MetricBatchWire.Int16s(0, 841) }, "point 1 has a wall time out of range" },
            { "offset past the end of time", valid with { Ticks = MetricBatchWire.Int64s(0, DateTimeOffset.MaxValue.UtcTicks), Offsets = MetricBatchWire.Int16s(0, 60) },
                "point 1 has a wall time out of range" },
        };
    }

    [Theory]
    [MemberData(nameof(Malformed))]
    public void A_malformed_batch_is_refused_with_what_is_wrong(string fault, MetricBatchWire wire, string why)
    {
        var e = Refused(wire.ToBytes());
        Assert.True(Why(e).Contains(why, StringComparison.Ordinal), $"{fault}: {Why(e)}");
    }

    [Fact]
    public void Counts_that_the_message_cannot_hold_are_refused_before_anything_is_allocated_for_them()
    {
        // A name table that claims two billion entries in a message of a few bytes: MessagePack's own guard.
        var names = MetricBatchWire.Valid().ToBytes();
        var at = Array.IndexOf(names, (byte)0x91); // fixarray of one name
        byte[] huge = [.. names[..at], 0xdd, 0x7f, 0xff, 0xff, 0xff, .. names[(at + 1)..]];
        Assert.IsType<EndOfStreamException>(Refused(huge).InnerException);
        // A count of two billion points: refused before the name table is even read.
        Assert.Contains("it claims 2147483647 points", Why(Refused((MetricBatchWire.Valid() with { Count = int.MaxValue, Names = null }).ToBytes())));

        var truncated = MetricBatchWire.Valid().ToBytes()[..^5];
        Assert.IsType<EndOfStreamException>(Refused(truncated).InnerException);
    }

    private sealed class Segments : ReadOnlySequenceSegment<byte>
    {
        private Segments(ReadOnlyMemory<byte> memory, long start)
        {
            Memory = memory;
            RunningIndex = start;
        }

        public static ReadOnlySequence<byte> Of(byte[] bytes, int size)
        {
            var first = new Segments(bytes.AsMemory(0, Math.Min(size, bytes.Length)), 0);
            var last = first;
            for (var at = size; at < bytes.Length; at += size)
            {
                var next = new Segments(bytes.AsMemory(at, Math.Min(size, bytes.Length - at)), at);
                last.Next = next;
                last = next;
            }
            return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
        }
    }
}
