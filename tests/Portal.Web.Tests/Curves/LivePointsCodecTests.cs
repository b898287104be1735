using Portal.Web.Features.Curves;

namespace Portal.Web.Tests.Curves;

/// <summary>The packed live batch: what goes in comes out bit for bit, in the documented layout.</summary>
public sealed class LivePointsCodecTests
{
    [Fact]
    public void A_batch_round_trips_with_NaN_infinities_and_extreme_steps_and_times()
    {
        long[] steps = [0, 1, 1L << 53, (1L << 53) + 1, long.MaxValue, long.MinValue, -7];
        double[] values = [double.NaN, double.PositiveInfinity, double.NegativeInfinity, -0.0, double.Epsilon, double.MaxValue, 0.1 + 0.2];
        long[] times = [0, 1_764_216_000_123, -1, long.MaxValue, long.MinValue, 42, 1_764_216_000_124];

        var (s, v, t) = LivePointsCodec.Decode(LivePointsCodec.Encode(steps, values, times));

        Assert.Equal(steps, s);
        Assert.Equal(times, t);
        Assert.Equal(values.Select(BitConverter.DoubleToInt64Bits), v.Select(BitConverter.DoubleToInt64Bits));
    }

    [Fact]
    public void The_packed_form_is_the_count_then_little_endian_values_then_zigzag_varint_deltas_of_steps_and_times()
    {
        var bytes = System.Buffers.Text.Base64Url.DecodeFromChars(LivePointsCodec.Encode([5, 4], [1.5, double.NaN], [200, 201]));

        Assert.Equal(2, bytes[0]);
        Assert.Equal(1.5, BitConverter.ToDouble(bytes, 1));
        Assert.True(double.IsNaN(BitConverter.ToDouble(bytes, 9)));
        // Steps 5 then 4: deltas +5, -1 (zigzag 10, 1); times 200 then 201: +200 (zigzag 400 = 0x90 0x03), +1 (2).
        Assert.Equal(new byte[] { 10, 1, 0x90, 0x03, 2 }, bytes[17..]);
    }

    [Fact]
    public void The_packed_form_uses_only_characters_that_JSON_writes_unescaped()
    {
        var bytes = Enumerable.Range(0, 3 * 8 * 64).Select(i => (byte)i).ToArray();
        var steps = Enumerable.Range(0, 64).Select(i => BitConverter.ToInt64(bytes, i * 8)).ToArray();
        var values = Enumerable.Range(0, 64).Select(i => BitConverter.ToDouble(bytes, 512 + i * 8)).ToArray();
        var times = Enumerable.Range(0, 64).Select(i => BitConverter.ToInt64(bytes, 1024 + i * 8)).ToArray();
        var packed = LivePointsCodec.Encode(steps, values, times);

        Assert.Equal($"\"{packed}\"", System.Text.Json.JsonSerializer.Serialize(packed));
    }

    [Fact]
    public void An_empty_batch_round_trips_and_a_truncated_one_is_refused()
    {
        var (s, v, t) = LivePointsCodec.Decode(LivePointsCodec.Encode([], [], []));
        Assert.Empty(s);
        Assert.Empty(v);
        Assert.Empty(t);
        Assert.Throws<FormatException>(() => LivePointsCodec.Decode(System.Buffers.Text.Base64Url.EncodeToString([3, 0, 0, 0, 0, 0, 0, 0, 0])));
        var whole = System.Buffers.Text.Base64Url.DecodeFromChars(LivePointsCodec.Encode([1, 2], [1, 2], [1, 2]));
        Assert.Throws<FormatException>(() => LivePointsCodec.Decode(System.Buffers.Text.Base64Url.EncodeToString(whole[..^1])));
        Assert.Throws<FormatException>(() => LivePointsCodec.Decode(System.Buffers.Text.Base64Url.EncodeToString([.. whole, 0])));
        Assert.Throws<ArgumentException>(() => LivePointsCodec.Encode([1], [], [1]));
    }
}
