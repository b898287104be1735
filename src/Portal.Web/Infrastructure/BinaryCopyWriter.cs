using System.Buffers.Binary;

namespace Portal.Web.Infrastructure;

/// <summary>
/// Rows in PostgreSQL's binary COPY format, written to the stream of <c>NpgsqlConnection.BeginRawBinaryCopy</c>: a
/// signature and two zero words, then per row its field count and each field as its length and big-endian value
/// (-1 for null), then -1. Npgsql's own importer resolves a converter and runs an async state machine per value,
/// which cost the hot COPYs (metric points, chart tiers) more than the rest of their work; columns of a few fixed
/// types need neither.
/// </summary>
internal sealed class BinaryCopyWriter
{
    private static readonly byte[] Signature = [(byte)'P', (byte)'G', (byte)'C', (byte)'O', (byte)'P', (byte)'Y', (byte)'\n', 0xFF, (byte)'\r', (byte)'\n', 0];
    /// <summary>PostgreSQL counts timestamps in microseconds from 2000-01-01 UTC.</summary>
    private static readonly long PostgresEpochTicks = new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;
    private const int FlushAt = 60 * 1024;

    private readonly Stream _stream;
    private readonly bool _flushWhenFull;
    private readonly Dictionary<string, byte[]> _texts = new(StringComparer.Ordinal);
    private byte[] _buffer = new byte[64 * 1024];
    private int _length;

    /// <param name="stream">The raw COPY stream.</param>
    /// <param name="flushWhenFull">
    /// Write to the stream (synchronously) whenever a row starts in a full buffer; an async caller passes false and
    /// calls <see cref="FlushAsync"/> when <see cref="Full"/>.
    /// </param>
    public BinaryCopyWriter(Stream stream, bool flushWhenFull = true)
    {
        _stream = stream;
        _flushWhenFull = flushWhenFull;
        Signature.CopyTo(_buffer, 0);
        _buffer.AsSpan(Signature.Length, 8).Clear(); // flags, header extension length
        _length = Signature.Length + 8;
    }

    public void StartRow(short fields)
    {
        if (_flushWhenFull && _length >= FlushAt) Flush();
        BinaryPrimitives.WriteInt16BigEndian(Take(2), fields);
    }

    public void Int64(long value)
    {
        var field = Take(12);
        BinaryPrimitives.WriteInt32BigEndian(field, 8);
        BinaryPrimitives.WriteInt64BigEndian(field[4..], value);
    }

    public void Int32(int value)
    {
        var field = Take(8);
        BinaryPrimitives.WriteInt32BigEndian(field, 4);
        BinaryPrimitives.WriteInt32BigEndian(field[4..], value);
    }

    public void Double(double value)
    {
        var field = Take(12);
        BinaryPrimitives.WriteInt32BigEndian(field, 8);
        BinaryPrimitives.WriteDoubleBigEndian(field[4..], value);
    }

    /// <summary>UTF-8 text; the encodings of texts seen before (metric names) are reused.</summary>
    public void Text(string value)
    {
        if (!_texts.TryGetValue(value, out var utf8))
        {
            utf8 = System.Text.Encoding.UTF8.GetBytes(value);
            if (_texts.Count < 1_000) _texts[value] = utf8;
        }
        var field = Take(4 + utf8.Length);
        BinaryPrimitives.WriteInt32BigEndian(field, utf8.Length);
        utf8.CopyTo(field[4..]);
    }

    /// <summary>As Npgsql writes a timestamptz: the earliest and latest times as -infinity and infinity.</summary>
    public void TimestampTz(DateTimeOffset time) => Int64(
        time == DateTimeOffset.MaxValue ? long.MaxValue
        : time == DateTimeOffset.MinValue ? long.MinValue
        : (time.UtcTicks - PostgresEpochTicks) / TimeSpan.TicksPerMicrosecond);

    public void Null() => BinaryPrimitives.WriteInt32BigEndian(Take(4), -1);

    /// <summary>The buffer holds enough to send; rows may still be added (it grows).</summary>
    public bool Full => _length >= FlushAt;

    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        await _stream.WriteAsync(_buffer.AsMemory(0, _length), cancellationToken);
        _length = 0;
    }

    public void Complete()
    {
        BinaryPrimitives.WriteInt16BigEndian(Take(2), -1);
        Flush();
    }

    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        BinaryPrimitives.WriteInt16BigEndian(Take(2), -1);
        await FlushAsync(cancellationToken);
    }

    private Span<byte> Take(int bytes)
    {
        if (_length + bytes > _buffer.Length) Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + bytes));
        var span = _buffer.AsSpan(_length, bytes);
        _length += bytes;
        return span;
    }

    private void Flush()
    {
        _stream.Write(_buffer, 0, _length);
        _length = 0;
    }
}
