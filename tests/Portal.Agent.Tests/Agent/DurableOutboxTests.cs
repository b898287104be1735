using Portal.Agent.Outbox;
using Portal.Contracts;
using Xunit;

namespace Portal.Agent.Tests.Agent;

public sealed class DurableOutboxTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("portal-outbox-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static MetricsItem Points(long run, params long[] steps) =>
        new(run, steps.Select(s => new MetricPointDto("train/loss", s, s * 0.5, DateTimeOffset.UnixEpoch.AddSeconds(s))).ToArray());

    [Fact]
    public void Unsent_points_survive_a_restart()
    {
        using (var outbox = new DurableOutbox(_directory))
        {
            outbox.Append(Points(1, 1, 2));
            outbox.Append(new LogItem(1, ["hello"]));
        }

        using var reopened = new DurableOutbox(_directory);

        Assert.Equal(2, reopened.PendingCount);
        Assert.Equal(2, reopened.PendingPoints);
        var first = Assert.IsType<MetricsItem>(reopened.Peek(100)[0].Item);
        Assert.Equal([1L, 2L], first.Points.Select(p => p.Step));
        Assert.Equal(1.0, first.Points[1].Value);
    }

    [Fact]
    public void Acknowledged_entries_are_never_handed_out_again_even_after_a_restart()
    {
        long acked;
        using (var outbox = new DurableOutbox(_directory))
        {
            outbox.Append(Points(1, 1));
            outbox.Append(Points(1, 2));
            acked = outbox.Peek(100)[^1].Sequence;
            outbox.Acknowledge(acked);
            outbox.Append(Points(1, 3));
        }

        using var reopened = new DurableOutbox(_directory);

        var entry = Assert.Single(reopened.Peek(100));
        Assert.Equal([3L], ((MetricsItem)entry.Item).Points.Select(p => p.Step));
        Assert.True(entry.Sequence > acked);
        var next = reopened.Append(Points(1, 4));
        Assert.True(next > entry.Sequence, "sequence numbers must not be reused after a restart");
    }

    [Fact]
    public void Metrics_of_one_run_coalesce_up_to_the_batch_limit_and_stop_at_other_items()
    {
        using var outbox = new DurableOutbox(_directory);
        outbox.Append(Points(1, 1, 2));
        outbox.Append(Points(1, 3, 4));
        outbox.Append(Points(1, 5, 6));
        outbox.Append(Points(2, 1));
        outbox.Append(new FinishedItem(1, new RunOutcome(1, RunOutcomeStatus.Succeeded, new Dictionary<string, double>(), null, 6)));

        Assert.Equal(2, outbox.Peek(maxPoints: 5).Count);
        Assert.Equal(3, outbox.Peek(maxPoints: 100).Count);
        outbox.Acknowledge(outbox.Peek(100)[^1].Sequence);
        Assert.Equal(2, ((MetricsItem)Assert.Single(outbox.Peek(100)).Item).RunId);
    }

    [Fact]
    public void A_record_torn_by_a_crash_is_dropped_and_the_rest_kept()
    {
        using (var outbox = new DurableOutbox(_directory))
        {
            outbox.Append(Points(1, 1));
            outbox.Append(Points(1, 2));
        }
        var segment = Directory.GetFiles(_directory, "segment-*.log").Single();
        using (var file = new FileStream(segment, FileMode.Open))
            file.SetLength(file.Length - 3);

        using var reopened = new DurableOutbox(_directory);

        Assert.Equal([1L], reopened.Peek(100).SelectMany(e => ((MetricsItem)e.Item).Points).Select(p => p.Step));
        reopened.Append(Points(1, 3));
        Assert.Equal(2, reopened.PendingCount);
    }

    [Fact]
    public void NaN_and_infinite_values_are_kept_as_such()
    {
        using (var outbox = new DurableOutbox(_directory))
            outbox.Append(new MetricsItem(1, [new("train/loss", 1, double.NaN, DateTimeOffset.UnixEpoch), new("train/loss", 2, double.PositiveInfinity, DateTimeOffset.UnixEpoch)]));

        using var reopened = new DurableOutbox(_directory);

        var points = ((MetricsItem)reopened.Peek(100)[0].Item).Points;
        Assert.True(double.IsNaN(points[0].Value));
        Assert.True(double.IsPositiveInfinity(points[1].Value));
    }
}
