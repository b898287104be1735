using System.Buffers.Binary;
using System.Buffers.Text;

namespace Portal.Web.Features.Curves;

/// <summary>
/// The packed form of a live batch, sent once per message for all viewers: the point count (varint), the values
/// (little-endian Float64, NaN kept as NaN), then the steps and then the wall times (Unix ms), each as zigzag varints
/// of the difference from the one before (the first from 0); all of it unpadded base64url (the URL alphabet because
/// SignalR's JSON writer would escape every '+' of standard base64 as \u002B). Steps and times of a batch mostly
/// advance by small amounts, so a point takes about 10 bytes instead of the 24 of fixed-width arrays; the viewers'
/// cost grows with the bytes they receive and decode.
/// </summary>
public static class LivePointsCodec
{
    private const int MaxVarint = 10;

    public static string Encode(ReadOnlySpan<long> steps, ReadOnlySpan<double> values, ReadOnlySpan<long> times)
    {
        if (values.Length != steps.Length || times.Length != steps.Length)
            throw new ArgumentException("Steps, values and times must have the same length.");
        var n = steps.Length;
        var buffer = new byte[MaxVarint + n * (sizeof(double) + 2 * MaxVarint)];
        var pos = 0;
        WriteVarint(buffer, ref pos, (ulong)n);
        foreach (var v in values)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(buffer.AsSpan(pos), v);
            pos += sizeof(double);
        }
        WriteDeltas(buffer, ref pos, steps);
        WriteDeltas(buffer, ref pos, times);
        return Base64Url.EncodeToString(buffer.AsSpan(0, pos));
    }

    public static (long[] Steps, double[] Values, long[] Times) Decode(string packed)
    {
        var bytes = Base64Url.DecodeFromChars(packed);
        var pos = 0;
        var count = ReadVarint(bytes, ref pos);
        if (count > (ulong)(bytes.Length - pos) / sizeof(double)) throw new FormatException($"A packed batch says {count} points but is too short for them.");
        var n = (int)count;
        var values = new double[n];
        for (var i = 0; i < n; i++, pos += sizeof(double)) values[i] = BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(pos));
        var steps = ReadDeltas(bytes, ref pos, n);
        var times = ReadDeltas(bytes, ref pos, n);
        if (pos != bytes.Length) throw new FormatException($"A packed batch of {n} points has {bytes.Length - pos} bytes left over.");
        return (steps, values, times);
    }

    private static void WriteDeltas(byte[] buffer, ref int pos, ReadOnlySpan<long> series)
    {
        var previous = 0L;
        foreach (var x in series)
        {
            var delta = unchecked(x - previous); // wraps for extreme jumps; the reader wraps back
            WriteVarint(buffer, ref pos, (ulong)((delta << 1) ^ (delta >> 63)));
            previous = x;
        }
    }

    private static long[] ReadDeltas(byte[] bytes, ref int pos, int n)
    {
        var series = new long[n];
        var previous = 0L;
        for (var i = 0; i < n; i++)
        {
            var zigzag = ReadVarint(bytes, ref pos);
            previous = unchecked(previous + ((long)(zigzag >> 1) ^ -(long)(zigzag & 1)));
            series[i] = previous;
        }
        return series;
    }

    private static void WriteVarint(byte[] buffer, ref int pos, ulong v)
    {
        for (; v >= 0x80; v >>= 7) buffer[pos++] = (byte)(v | 0x80);
        buffer[pos++] = (byte)v;
    }

    private static ulong ReadVarint(byte[] bytes, ref int pos)
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (pos >= bytes.Length) throw new FormatException("A packed batch ends inside a number.");
            var b = bytes[pos++];
            result |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80) return result;
        }
        throw new FormatException("A packed batch holds a number longer than 64 bits.");
    }
}
