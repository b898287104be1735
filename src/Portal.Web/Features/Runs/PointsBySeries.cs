using Portal.Contracts;

namespace Portal.Web.Features.Runs;

/// <summary>
/// Metric points sorted into their series (run, metric), each series in the order its points came: for the writer's
/// COPY order, the live fan-out's one message per series and the roller's points kept per series. Agents log several
/// metrics per step, so a batch's names interleave; a decoded batch shares its name strings, so the previous point's
/// series is recognised by reference before the dictionary is asked.
/// </summary>
public sealed class PointsBySeries
{
    private readonly Dictionary<(long RunId, string Name), List<MetricPointDto>> _series = [];
    private List<MetricPointDto>? _last;
    private (long RunId, string Name) _lastKey;

    public IReadOnlyDictionary<(long RunId, string Name), List<MetricPointDto>> Series => _series;

    public void Add(long runId, MetricPointDto point)
    {
        if (_last is null || runId != _lastKey.RunId || !ReferenceEquals(point.Name, _lastKey.Name))
        {
            _lastKey = (runId, point.Name);
            if (!_series.TryGetValue(_lastKey, out _last)) _series[_lastKey] = _last = [];
        }
        _last.Add(point);
    }

    public void Add(long runId, IReadOnlyList<MetricPointDto> points)
    {
        foreach (var point in points) Add(runId, point);
    }
}
