using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Portal.Agent.Outbox;

/// <summary>
/// An append-only, on-disk queue of what the agent has not yet delivered. Records go to segment files as
/// [length][crc32][json]; a separate file holds the sequence number of the last record the portal acknowledged.
/// On open, records after that number are pending again; a torn record at the end (a crash mid-write) is cut off.
/// Appends are flushed to the OS at once (a killed process loses nothing); <see cref="Sync"/> forces them to disk.
/// </summary>
public sealed class DurableOutbox : IDisposable
{
    private const long SegmentBytes = 8 * 1024 * 1024;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private readonly object _gate = new();
    private readonly string _directory;
    private readonly string _ackPath;
    private readonly LinkedList<OutboxEntry> _pending = new();
    private FileStream? _segment;
    private long _lastSequence;
    private long _acknowledged;
    private long _pendingPoints;
    private bool _dirty;

    public DurableOutbox(string directory)
    {
        _directory = directory;
        Directory.CreateDirectory(directory);
        _ackPath = Path.Combine(directory, "acknowledged");
        _acknowledged = File.Exists(_ackPath) && long.TryParse(File.ReadAllText(_ackPath).Trim(), out var a) ? a : 0;
        _lastSequence = _acknowledged;
        foreach (var file in Segments()) Load(file);
        DeleteAcknowledgedSegments();
    }

    /// <summary>Signalled whenever something is appended.</summary>
    public event Action? Appended;

    public int PendingCount { get { lock (_gate) return _pending.Count; } }

    /// <summary>Metric points appended and not yet acknowledged.</summary>
    public long PendingPoints { get { lock (_gate) return _pendingPoints; } }

    public long Append(OutboxItem item)
    {
        var payload = JsonSerializer.SerializeToUtf8Bytes(item, Json);
        lock (_gate)
        {
            var sequence = ++_lastSequence;
            var record = new byte[16 + payload.Length];
            BinaryPrimitives.WriteInt64LittleEndian(record, sequence);
            BinaryPrimitives.WriteInt32LittleEndian(record.AsSpan(8), payload.Length);
            payload.CopyTo(record, 16);
            BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(12), Crc32.Compute(record.AsSpan(0, 12)) ^ Crc32.Compute(payload));
            var stream = CurrentSegment(sequence);
            stream.Write(record);
            stream.Flush(flushToDisk: false);
            _dirty = true;
            _pending.AddLast(new OutboxEntry(sequence, item));
            if (item is MetricsItem m) _pendingPoints += m.Points.Count;
            Appended?.Invoke();
            return sequence;
        }
    }

    /// <summary>The oldest pending entries, in order; metrics (or log lines) of one run coalesce up to the limits.</summary>
    public IReadOnlyList<OutboxEntry> Peek(int maxPoints, int maxEntries = 1000)
    {
        lock (_gate)
        {
            var result = new List<OutboxEntry>();
            var points = 0;
            for (var node = _pending.First; node is not null && result.Count < maxEntries; node = node.Next)
            {
                var entry = node.Value;
                if (result.Count > 0)
                {
                    var head = result[0].Item;
                    var sameKind = entry.Item.GetType() == head.GetType() && entry.Item.RunId == head.RunId;
                    if (!sameKind || head is not (MetricsItem or LogItem)) break;
                }
                if (entry.Item is MetricsItem m)
                {
                    if (result.Count > 0 && points + m.Points.Count > maxPoints) break;
                    points += m.Points.Count;
                }
                result.Add(entry);
            }
            return result;
        }
    }

    /// <summary>
    /// What one delivery takes: the oldest entry alone when it is an upload or an outcome; otherwise the run of
    /// metric and log entries (of any run, in any mix) that starts the outbox, up to the limits. Training that logs
    /// a line per step interleaves the two kinds; taking them together keeps a delivery to a few calls.
    /// </summary>
    public IReadOnlyList<OutboxEntry> PeekBatch(int maxPoints, int maxLines, int maxEntries = 50_000)
    {
        lock (_gate)
        {
            var result = new List<OutboxEntry>();
            int points = 0, lines = 0;
            for (var node = _pending.First; node is not null && result.Count < maxEntries; node = node.Next)
            {
                var entry = node.Value;
                if (entry.Item is not (MetricsItem or LogItem))
                {
                    if (result.Count == 0) result.Add(entry);
                    break;
                }
                var addPoints = entry.Item is MetricsItem m ? m.Points.Count : 0;
                var addLines = entry.Item is LogItem l ? l.Lines.Count : 0;
                if (result.Count > 0 && (points + addPoints > maxPoints || lines + addLines > maxLines)) break;
                points += addPoints;
                lines += addLines;
                result.Add(entry);
            }
            return result;
        }
    }

    /// <summary>Everything up to and including <paramref name="sequence"/> was delivered; it is never handed out again.</summary>
    public void Acknowledge(long sequence)
    {
        lock (_gate)
        {
            if (sequence <= _acknowledged) return;
            while (_pending.First is { } first && first.Value.Sequence <= sequence)
            {
                if (first.Value.Item is MetricsItem m) _pendingPoints -= m.Points.Count;
                _pending.RemoveFirst();
            }
            _acknowledged = sequence;
            // The segments hold the records up to here, so they must be on disk before the mark says "delivered".
            SyncLocked();
            var temp = _ackPath + ".tmp";
            using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write))
            {
                file.Write(System.Text.Encoding.ASCII.GetBytes(sequence.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, _ackPath, overwrite: true);
            DeleteAcknowledgedSegments();
        }
    }

    /// <summary>Forces appended records to disk (survives a power loss, not only a process kill).</summary>
    public void Sync()
    {
        lock (_gate) SyncLocked();
    }

    private void SyncLocked()
    {
        if (!_dirty || _segment is null) return;
        _segment.Flush(flushToDisk: true);
        _dirty = false;
    }

    private FileStream CurrentSegment(long sequence)
    {
        if (_segment is not null && _segment.Length < SegmentBytes) return _segment;
        SyncLocked();
        _segment?.Dispose();
        _segment = new FileStream(Path.Combine(_directory, $"segment-{sequence:D16}.log"), FileMode.Append, FileAccess.Write, FileShare.Read);
        return _segment;
    }

    private IEnumerable<string> Segments() => Directory.EnumerateFiles(_directory, "segment-*.log").Order(StringComparer.Ordinal).ToList();

    private void Load(string file)
    {
        var bytes = File.ReadAllBytes(file);
        var offset = 0;
        while (offset + 16 <= bytes.Length)
        {
            var sequence = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(offset));
            var length = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(offset + 8));
            var crc = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset + 12));
            if (length < 0 || offset + 16 + length > bytes.Length) break;
            var payload = bytes.AsSpan(offset + 16, length);
            if ((Crc32.Compute(bytes.AsSpan(offset, 12)) ^ Crc32.Compute(payload)) != crc) break;
            if (sequence > _acknowledged)
            {
                var item = JsonSerializer.Deserialize<OutboxItem>(payload, Json)!;
                _pending.AddLast(new OutboxEntry(sequence, item));
                if (item is MetricsItem m) _pendingPoints += m.Points.Count;
            }
            _lastSequence = Math.Max(_lastSequence, sequence);
            offset += 16 + length;
        }
        if (offset < bytes.Length)
        {
            // A record torn by a crash: everything from it on was never acknowledged by anyone, drop it.
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Write);
            stream.SetLength(offset);
        }
    }

    private void DeleteAcknowledgedSegments()
    {
        // A segment is done when the next one starts at or below the acknowledged mark + 1.
        var files = Segments().ToList();
        for (var i = 0; i < files.Count - 1; i++)
        {
            var nextFirst = long.Parse(Path.GetFileNameWithoutExtension(files[i + 1])["segment-".Length..], System.Globalization.CultureInfo.InvariantCulture);
            if (nextFirst - 1 > _acknowledged) break;
            File.Delete(files[i]);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            SyncLocked();
            _segment?.Dispose();
            _segment = null;
        }
    }
}
