using System.Buffers;
using System.Buffers.Binary;
using MessagePack;
using MessagePack.Formatters;

namespace Portal.Contracts;

/// <summary>
/// <see cref="MetricBatch"/> on the wire as columns instead of one string-keyed map per point (docs/decisions/0027):
/// <c>[RunId, BatchSequence, Count, Names, NameIndexes, Steps, Values, UtcTicks, OffsetMinutes]</c>, where Names holds
/// each distinct metric name once and the per-point columns are little-endian bin blocks: name indexes of 1, 2 or 4
/// bytes (as the number of names needs), steps as int64, values as the IEEE bits of the double (NaN payloads and -0.0
/// survive), wall times as UTC ticks, and offsets in minutes as int16 only when some point has a non-zero offset (nil
/// otherwise). A null points list is Count nil with every column nil, so the portal can still say what is wrong.
/// The attribute on <see cref="MetricBatch"/> selects this through MessagePack's standard and contractless resolvers,
/// which SignalR's MessagePack protocol uses on both ends.
/// </summary>
public sealed class MetricBatchFormatter : IMessagePackFormatter<MetricBatch?>
{
    private const int Fields = 9;
    private const int MaxOffsetMinutes = 14 * 60; // DateTimeOffset's own limit
    private const int ColumnsAfterCount = Fields - 3;
    private const int MinColumnBytesPerPoint = 1 + sizeof(long) + sizeof(double) + sizeof(long);

    public void Serialize(ref MessagePackWriter writer, MetricBatch? value, MessagePackSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }
        writer.WriteArrayHeader(Fields);
        writer.Write(value.RunId);
        writer.Write(value.BatchSequence);
        var points = value.Points;
        if (points is null)
        {
            for (var i = 0; i <= ColumnsAfterCount; i++) writer.WriteNil();
            return;
        }

        var count = points.Count;
        if (count > int.MaxValue / sizeof(long))
            throw new MessagePackSerializationException($"A metric batch of {count} points is too large to send; split it.");
        var names = new List<string?>();
        var indexes = ArrayPool<int>.Shared.Rent(count);
        try
        {
            var byName = new Dictionary<string, int>(StringComparer.Ordinal);
            var nullName = -1;
            var offsets = false;
            for (var i = 0; i < count; i++)
            {
                var point = points[i] ?? throw new MessagePackSerializationException($"Point {i} of the metric batch is null.");
                indexes[i] = IndexOf(point.Name, names, byName, ref nullName);
                offsets |= point.WallTime.Offset != TimeSpan.Zero;
            }

            writer.Write(count);
            writer.WriteArrayHeader(names.Count);
            foreach (var name in names) writer.Write(name);

            var width = IndexWidth(names.Count);
            var block = Block(ref writer, count, width);
            for (var i = 0; i < count; i++)
            {
                switch (width)
                {
                    case 1: block[i] = (byte)indexes[i]; break;
                    case 2: BinaryPrimitives.WriteUInt16LittleEndian(block[(i * 2)..], (ushort)indexes[i]); break;
                    default: BinaryPrimitives.WriteInt32LittleEndian(block[(i * 4)..], indexes[i]); break;
                }
            }
            writer.Advance(count * width);

            block = Block(ref writer, count, sizeof(long));
            for (var i = 0; i < count; i++) BinaryPrimitives.WriteInt64LittleEndian(block[(i * 8)..], points[i].Step);
            writer.Advance(count * sizeof(long));
            block = Block(ref writer, count, sizeof(double));
            for (var i = 0; i < count; i++) BinaryPrimitives.WriteDoubleLittleEndian(block[(i * 8)..], points[i].Value);
            writer.Advance(count * sizeof(double));
            block = Block(ref writer, count, sizeof(long));
            for (var i = 0; i < count; i++) BinaryPrimitives.WriteInt64LittleEndian(block[(i * 8)..], points[i].WallTime.UtcTicks);
            writer.Advance(count * sizeof(long));
            if (!offsets)
            {
                writer.WriteNil();
                return;
            }
            block = Block(ref writer, count, sizeof(short));
            for (var i = 0; i < count; i++)
                BinaryPrimitives.WriteInt16LittleEndian(block[(i * 2)..], (short)points[i].WallTime.Offset.TotalMinutes);
            writer.Advance(count * sizeof(short));
        }
        finally
        {
            ArrayPool<int>.Shared.Return(indexes);
        }
    }

    public MetricBatch? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.TryReadNil()) return null;
        options.Security.DepthStep(ref reader);
        try
        {
            // Agents from before this layout send the contractless map; they keep working until they are updated.
            if (reader.NextMessagePackType == MessagePackType.Map) return ReadMap(ref reader, options);

            var fields = reader.ReadArrayHeader();
            if (fields != Fields) throw Malformed($"it has {fields} fields instead of {Fields}");
            var runId = reader.ReadInt64();
            var sequence = reader.ReadInt64();
            if (reader.TryReadNil())
            {
                for (var i = 0; i < ColumnsAfterCount; i++)
                    if (!reader.TryReadNil()) throw Malformed("it has columns but no point count");
                return new MetricBatch(runId, sequence, null!); // refused by the portal with its own reason
            }

            var count = reader.ReadInt32();
            if (count < 0) throw Malformed($"its point count is {count}");
            // Nothing is allocated for points or names that the message cannot hold: the columns take at least 25 bytes
            // a point, and a writer never has more names than points.
            var left = reader.Sequence.Slice(reader.Position).Length;
            if ((long)count * MinColumnBytesPerPoint > left) throw Malformed($"it claims {count} points but only {left} bytes follow");
            if (reader.TryReadNil()) throw Malformed("it has no name table");
            var nameCount = reader.ReadArrayHeader();
            if (nameCount > count) throw Malformed($"it has {nameCount} names for {count} points");
            var names = new string?[nameCount];
            for (var i = 0; i < nameCount; i++) names[i] = reader.ReadString();

            // Every column must hold exactly Count entries before the points are allocated.
            var width = IndexWidth(nameCount);
            var indexes = Column(ref reader, count, width, "name indexes");
            var steps = Column(ref reader, count, sizeof(long), "steps");
            var values = Column(ref reader, count, sizeof(double), "values");
            var ticks = Column(ref reader, count, sizeof(long), "wall times");
            var offsets = reader.TryReadNil() ? default : Column(ref reader, count, sizeof(short), "offsets");

            var points = new MetricPointDto[count];
            for (var i = 0; i < count; i++)
            {
                var index = width switch
                {
                    1 => indexes[i],
                    2 => BinaryPrimitives.ReadUInt16LittleEndian(indexes[(i * 2)..]),
                    _ => BinaryPrimitives.ReadInt32LittleEndian(indexes[(i * 4)..]),
                };
                if ((uint)index >= (uint)nameCount) throw Malformed($"point {i} names metric {index} of {nameCount}");
                var offset = offsets.IsEmpty ? 0 : BinaryPrimitives.ReadInt16LittleEndian(offsets[(i * 2)..]);
                points[i] = new MetricPointDto(names[index]!, BinaryPrimitives.ReadInt64LittleEndian(steps[(i * 8)..]),
                    BinaryPrimitives.ReadDoubleLittleEndian(values[(i * 8)..]), WallTime(BinaryPrimitives.ReadInt64LittleEndian(ticks[(i * 8)..]), offset, i));
            }
            return new MetricBatch(runId, sequence, points);
        }
        finally
        {
            reader.Depth--;
        }
    }

    /// <summary>Names are looked up by reference first: an agent's names are the same few instances over and over.</summary>
    private static int IndexOf(string? name, List<string?> names, Dictionary<string, int> byName, ref int nullName)
    {
        for (var i = 0; i < names.Count && i < 8; i++)
            if (ReferenceEquals(names[i], name)) return i;
        if (name is null)
        {
            if (nullName < 0) { nullName = names.Count; names.Add(null); }
            return nullName;
        }
        if (!byName.TryGetValue(name, out var index))
        {
            index = names.Count;
            byName.Add(name, index);
            names.Add(name);
        }
        return index;
    }

    private static int IndexWidth(int names) => names <= 1 << 8 ? 1 : names <= 1 << 16 ? 2 : 4;

    private static Span<byte> Block(ref MessagePackWriter writer, int count, int width)
    {
        writer.WriteBinHeader(count * width);
        return writer.GetSpan(count * width)[..(count * width)];
    }

    private static ReadOnlySpan<byte> Column(ref MessagePackReader reader, int count, int width, string what)
    {
        if (reader.NextMessagePackType != MessagePackType.Binary) throw Malformed($"its {what} are not a bin block");
        var bytes = reader.ReadBytes()!.Value; // checks that the bytes are there
        if (bytes.Length != (long)count * width) throw Malformed($"its {what} take {bytes.Length} bytes instead of {(long)count * width} for {count} points");
        // A large message can arrive in several buffer segments; the copy is as large as the bytes received.
        return bytes.IsSingleSegment ? bytes.FirstSpan : bytes.ToArray();
    }

    private static DateTimeOffset WallTime(long utcTicks, int offsetMinutes, int point)
    {
        var offset = offsetMinutes * TimeSpan.TicksPerMinute;
        if (utcTicks < 0 || utcTicks > DateTimeOffset.MaxValue.UtcTicks || Math.Abs(offsetMinutes) > MaxOffsetMinutes
            || utcTicks + offset < 0 || utcTicks + offset > DateTimeOffset.MaxValue.UtcTicks)
            throw Malformed($"point {point} has a wall time out of range ({utcTicks} UTC ticks, offset {offsetMinutes} minutes)");
        return new DateTimeOffset(utcTicks + offset, TimeSpan.FromTicks(offset));
    }

    /// <summary>The contractless map that agents sent before this formatter: RunId, BatchSequence and Points by name.</summary>
    private static MetricBatch ReadMap(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        long runId = 0, sequence = 0;
        IReadOnlyList<MetricPointDto>? points = null;
        for (var entries = reader.ReadMapHeader(); entries > 0; entries--)
        {
            switch (reader.ReadString())
            {
                case nameof(MetricBatch.RunId): runId = reader.ReadInt64(); break;
                case nameof(MetricBatch.BatchSequence): sequence = reader.ReadInt64(); break;
                case nameof(MetricBatch.Points):
                    points = options.Resolver.GetFormatterWithVerify<IReadOnlyList<MetricPointDto>?>().Deserialize(ref reader, options);
                    break;
                default: reader.Skip(); break;
            }
        }
        return new MetricBatch(runId, sequence, points!);
    }

    private static MessagePackSerializationException Malformed(string why) => new($"Malformed metric batch: {why}.");
}
