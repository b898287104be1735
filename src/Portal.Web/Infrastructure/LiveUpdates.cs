using System.Collections.Concurrent;

namespace Portal.Web.Infrastructure;

/// <summary>
/// In-process publish/subscribe of "something changed" events by topic (e.g. <c>project:12</c>).
/// Pages subscribe and re-query; the event carries no data, so a missed one can never leave a stale copy.
/// With several instances, <see cref="ClusterBus"/> sets <see cref="Remote"/> so that a topic published on one
/// instance reaches the subscribers of every other.
/// </summary>
public sealed class LiveUpdates(ILogger<LiveUpdates> logger)
{
    private readonly ConcurrentDictionary<string, ImmutableHandlers> _topics = new();

    public IDisposable Subscribe(string topic, Func<Task> handler)
    {
        _topics.AddOrUpdate(topic, _ => new ImmutableHandlers([handler]), (_, h) => h.Add(handler));
        return new Subscription(() => _topics.AddOrUpdate(topic, _ => new ImmutableHandlers([]), (_, h) => h.Remove(handler)));
    }

    /// <summary>Sends published topics to the other instances; null when the portal runs alone.</summary>
    public Action<string[]>? Remote { get; set; }

    public void Publish(params string[] topics)
    {
        PublishLocal(topics);
        Remote?.Invoke(topics);
    }

    /// <summary>Notifies this instance's subscribers only (a topic that came from another instance).</summary>
    public void PublishLocal(string[] topics)
    {
        foreach (var topic in topics)
        {
            if (!_topics.TryGetValue(topic, out var handlers)) continue;
            foreach (var handler in handlers.Items)
                _ = InvokeSafely(topic, handler);
        }
    }

    private async Task InvokeSafely(string topic, Func<Task> handler)
    {
        try { await handler(); }
        catch (Exception e) { logger.LogWarning(e, "A live-update subscriber of {Topic} failed", topic); }
    }

    private sealed record ImmutableHandlers(Func<Task>[] Items)
    {
        public ImmutableHandlers Add(Func<Task> h) => new([.. Items, h]);
        public ImmutableHandlers Remove(Func<Task> h) => new(Items.Where(x => x != h).ToArray());
    }

    private sealed class Subscription(Action dispose) : IDisposable
    {
        private int _disposed;
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) dispose();
        }
    }
}

/// <summary>Topic names, so publishers and subscribers cannot drift apart.</summary>
public static class Topics
{
    public static string Project(long projectId) => $"project:{projectId}";
    public static string Projects => "projects";
    public static string Inbox(string userId) => $"inbox:{userId}";
    public static string Document(long documentId) => $"document:{documentId}";
    public static string Run(long runId) => $"run:{runId}";
    public static string Agents => "agents";
    public static string Release(long releaseId) => $"release:{releaseId}";
    public static string Task(long taskId) => $"task:{taskId}";
}
