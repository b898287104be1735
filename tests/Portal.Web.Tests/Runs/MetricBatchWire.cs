using System.Buffers;
using System.Buffers.Binary;
using MessagePack;
using MessagePack.Formatters;
using Microsoft.AspNetCore.SignalR;

namespace Portal.Web.Tests.Runs;

/// <summary>
/// A metric batch written by hand in the column layout of MetricBatchFormatter, field by field, so that tests can send
/// what no agent would: a column of the wrong length, an index out of range, a count that lies. Null arrays go as nil.
/// </summary>
public sealed record MetricBatchWire(long RunId, long Sequence, int? Count, string?[]? Names, byte[]? Indexes, byte[]? Steps, byte[]? Values,
    byte[]? Ticks, byte[]? Offsets = null, int Fields = 9)
{
    public static readonly DateTimeOffset Time = new(2026, 12, 3, 10, 0, 0, TimeSpan.Zero);

    /// <summary>Two points of "loss" at steps 1 and 2.</summary>
    public static MetricBatchWire Valid(long runId = 1, long sequence = 1) =>
        new(runId, sequence, 2, ["loss"], [0, 0], Int64s(1, 2), Int64s(BitConverter.DoubleToInt64Bits(0.5), BitConverter.DoubleToInt64Bits(0.25)),
            Int64s(Time.UtcTicks, Time.UtcTicks + 1));

    public static byte[] Int64s(params long[] values)
    {
        var bytes = new byte[values.Length * 8];
        for (var i = 0; i < values.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * 8), values[i]);
        return bytes;
    }

    public static byte[] Int16s(params short[] values)
    {
        var bytes = new byte[values.Length * 2];
        for (var i = 0; i < values.Length; i++) BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(i * 2), values[i]);
        return bytes;
    }

    public byte[] ToBytes()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(Fields);
        writer.Write(RunId);
        writer.Write(Sequence);
        if (Count is { } count) writer.Write(count); else writer.WriteNil();
        if (Names is null) writer.WriteNil();
        else
        {
            writer.WriteArrayHeader(Names.Length);
            foreach (var name in Names) writer.Write(name);
        }
        foreach (var column in new[] { Indexes, Steps, Values, Ticks, Offsets })
            if (column is null) writer.WriteNil(); else writer.Write(column);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The hub protocol's own serializer settings, as the portal and every agent use them.</summary>
    public static MessagePackSerializerOptions HubOptions => new MessagePackHubProtocolOptions().SerializerOptions;
}

/// <summary>The shape contractless MessagePack gave a <see cref="Portal.Contracts.MetricBatch"/> before it had a formatter of its own: what older agents send.</summary>
public sealed record LegacyMetricBatch(long RunId, long BatchSequence, IReadOnlyList<Portal.Contracts.MetricPointDto>? Points);

/// <summary>Hub argument whose bytes go on the wire as they are: how a test sends a batch that no formatter would write.</summary>
[MessagePackFormatter(typeof(RawMessagePackFormatter))]
public sealed record RawMessagePack(byte[] Bytes);

public sealed class RawMessagePackFormatter : IMessagePackFormatter<RawMessagePack>
{
    public void Serialize(ref MessagePackWriter writer, RawMessagePack value, MessagePackSerializerOptions options) => writer.WriteRaw(value.Bytes);

    public RawMessagePack Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options) =>
        new(reader.ReadRaw().ToArray());
}
