namespace Portal.Agent;

/// <summary>Doubling delays with +-20% jitter, so a fleet of agents does not reconnect in lock step after an outage.</summary>
internal sealed class Backoff(TimeSpan min, TimeSpan max)
{
    private int _attempt;

    public TimeSpan Next()
    {
        var baseMs = Math.Min(max.TotalMilliseconds, min.TotalMilliseconds * Math.Pow(2, Math.Min(_attempt++, 20)));
        return TimeSpan.FromMilliseconds(baseMs * (0.8 + 0.4 * Random.Shared.NextDouble()));
    }

    public void Reset() => _attempt = 0;
}
