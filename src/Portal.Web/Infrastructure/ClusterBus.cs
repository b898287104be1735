using System.Text.Json;
using StackExchange.Redis;

namespace Portal.Web.Infrastructure;

/// <summary>
/// The Redis connection of a portal that runs as several instances (Portal:Redis). It carries live-update topics
/// between instances (<see cref="LiveUpdates"/>); SignalR's own Redis backplane carries hub messages, and the Data
/// Protection keys are kept here so that a cookie issued by one instance is read by every other.
/// Connecting does not wait for Redis: an instance starts while Redis is down and catches up when it is back
/// (docs/decisions/0018).
/// </summary>
public sealed class ClusterBus(IConnectionMultiplexer redis, LiveUpdates live, ILogger<ClusterBus> logger) : IHostedService
{
    private const string LiveChannel = "portal:live";
    private readonly string _origin = Guid.NewGuid().ToString("N");
    private readonly CancellationTokenSource _stopping = new();
    private Task _subscribing = Task.CompletedTask;
    private volatile bool _subscribed;

    public IConnectionMultiplexer Redis => redis;

    /// <summary>Connects without waiting for Redis to be up: it reconnects on its own.</summary>
    public static IConnectionMultiplexer Connect(string configuration)
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = false;
        return ConnectionMultiplexer.Connect(options);
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        live.Remote = topics =>
        {
            var payload = JsonSerializer.Serialize(new LiveMessage(_origin, topics));
            // Fire and forget: a topic carries no data, and a viewer that misses one re-reads on its next event.
            Redis.GetSubscriber().Publish(RedisChannel.Literal(LiveChannel), payload, CommandFlags.FireAndForget);
        };
        // Subscribing needs Redis to answer; the instance does not wait for a Redis that is down (it says so on
        // /health/ready). When Redis is up, start-up waits for the subscription, so that the instance misses no
        // other instance's update from its first request on.
        _subscribing = Task.Run(() => SubscribeAsync(_stopping.Token), CancellationToken.None);
        return Redis.IsConnected ? WaitForFirstSubscriptionAsync(cancellationToken) : Task.CompletedTask;
    }

    private async Task WaitForFirstSubscriptionAsync(CancellationToken cancellationToken)
    {
        try { await _subscribing.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken); }
        catch (TimeoutException) { logger.LogWarning("Redis answers slowly: live updates of other instances follow once subscribed"); }
    }

    private async Task SubscribeAsync(CancellationToken stoppingToken)
    {
        var announced = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            // A SUBSCRIBE sent while Redis is down times out; once it went through, the client renews it on every
            // reconnect by itself.
            if (!Redis.IsConnected)
            {
                if (!announced) logger.LogWarning("Redis is unreachable: live updates of other instances wait for it");
                announced = true;
                try { await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken); } catch (OperationCanceledException) { return; }
                continue;
            }
            try
            {
                await Redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal(LiveChannel), (_, message) =>
                {
                    var received = JsonSerializer.Deserialize<LiveMessage>((string)message!);
                    if (received is null || received.Origin == _origin) return;
                    live.PublishLocal(received.Topics);
                });
                _subscribed = true;
                logger.LogInformation("Live updates shared through Redis");
                return;
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                logger.LogWarning("Subscribing to live updates in Redis failed ({Message}); trying again", e.Message);
                try { await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken); } catch (OperationCanceledException) { return; }
            }
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        live.Remote = null;
        await _stopping.CancelAsync();
        await _subscribing.WaitAsync(cancellationToken);
    }

    /// <summary>Whether Redis answers now and the live topics' subscription is back on it (for the readiness check).</summary>
    public async Task<bool> PingAsync()
    {
        try
        {
            await Redis.GetDatabase().PingAsync();
            return _subscribed && Redis.GetSubscriber().IsConnected(RedisChannel.Literal(LiveChannel));
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            return false;
        }
    }

    private sealed record LiveMessage(string Origin, string[] Topics);
}
