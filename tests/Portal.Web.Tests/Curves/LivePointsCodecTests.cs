using Portal.Web.Features.Curves;

namespace Portal.Web.Tests.Curves;

/// <summary>The packed live batch: what goes in comes out bit for bit, in the documented little-endian layout.</summary>
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
    public void The_packed_form_is_little_endian_steps_then_values_then_times()
    {
        var bytes = System.Buffers.Text.Base64Url.DecodeFromChars(LivePointsCodec.Encode([0x0102030405060708, 2], [1.5, double.NaN], [9, 10]));

        Assert.Equal(48, bytes.Length);
        Assert.Equal(new byte[] { 8, 7, 6, 5, 4, 3, 2, 1 }, bytes[..8]);
        Assert.Equal(2L, BitConverter.ToInt64(bytes, 8));
        Assert.Equal(1.5, BitConverter.ToDouble(bytes, 16));
        Assert.True(double.IsNaN(BitConverter.ToDouble(bytes, 24)));
        Assert.Equal(9L, BitConverter.ToInt64(bytes, 32));
        Assert.Equal(10L, BitConverter.ToInt64(bytes, 40));
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
        Assert.Throws<FormatException>(() => LivePointsCodec.Decode(System.Buffers.Text.Base64Url.EncodeToString(new byte[23])));
        Assert.Throws<ArgumentException>(() => LivePointsCodec.Encode([1], [], [1]));
    }
}
