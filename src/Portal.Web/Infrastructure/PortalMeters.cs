using System.Diagnostics.Metrics;

namespace Portal.Web.Infrastructure;

/// <summary>
/// The portal's own metrics, exported with OpenTelemetry when configured (see <see cref="PortalTelemetry"/>):
/// points ingested (a counter; a backend shows it per second), the metric writer's queue and the connected agents.
/// </summary>
public static class PortalMeters
{
    public const string Name = "Portal";
    private static readonly Meter Meter = new(Name);

    public static readonly Counter<long> PointsIngested =
        Meter.CreateCounter<long>("portal.points.ingested", "{point}", "Metric points stored for the first time.");

    public static readonly Gauge WriterQueue = new();
    public static readonly Gauge ConnectedAgents = new();

    static PortalMeters()
    {
        Meter.CreateObservableGauge("portal.writer.queue", () => WriterQueue.Value, "{batch}", "Metric batches waiting for the writer.");
        Meter.CreateObservableGauge("portal.agents.connected", () => ConnectedAgents.Value, "{agent}", "Agents connected to this instance.");
    }

    /// <summary>The last value recorded; read when the exporter collects.</summary>
    public sealed class Gauge
    {
        private long _value;
        public long Value => Interlocked.Read(ref _value);
        public void Record(long value) => Interlocked.Exchange(ref _value, value);
        public void Add(long delta) => Interlocked.Add(ref _value, delta);
    }
}
