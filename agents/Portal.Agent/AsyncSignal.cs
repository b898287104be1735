namespace Portal.Agent;

/// <summary>A wake-up flag for one waiting loop: Set any number of times, the next wait returns once.</summary>
internal sealed class AsyncSignal
{
    private readonly SemaphoreSlim _semaphore = new(0, 1);

    public void Set()
    {
        try { _semaphore.Release(); }
        catch (SemaphoreFullException) { } // already set: one wake-up is enough
    }

    /// <summary>True when signalled, false when the timeout passed first.</summary>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _semaphore.WaitAsync(timeout, cancellationToken);
}
