namespace Portal.Web.Data;

/// <summary>
/// Whether the database was reached and brought up to date since the process started. Until then the portal
/// answers /health/live, says "not ready" on /health/ready, turns other requests away with 503, and its background
/// work waits (docs/decisions/0018).
/// </summary>
public sealed class DatabaseStartup
{
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool IsReady => _ready.Task.IsCompleted;

    /// <summary>Completes once migrations are applied (and the demo data seeded when asked).</summary>
    public Task Ready => _ready.Task;

    internal void MarkReady() => _ready.TrySetResult();

    /// <summary>Lets background work wait for the database without failing when the portal stops first.</summary>
    public Task WaitAsync(CancellationToken cancellationToken) => _ready.Task.WaitAsync(cancellationToken);
}
