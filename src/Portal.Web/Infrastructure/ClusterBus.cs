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

    public IConnectionMultiplexer Redis => redis;

    /// <summary>Connects without waiting for Redis to be up: it reconnects on its own.</summary>
    public static IConnectionMultiplexer Connect(string configuration)
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = false;
        return ConnectionMultiplexer.Connect(options);
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await Redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal(LiveChannel), (_, message) =>
        {
            var received = JsonSerializer.Deserialize<LiveMessage>((string)message!);
            if (received is null || received.Origin == _origin) return;
            live.PublishLocal(received.Topics);
        });
        live.Remote = topics =>
        {
            var payload = JsonSerializer.Serialize(new LiveMessage(_origin, topics));
            // Fire and forget: a topic carries no data, and a viewer that misses one re-reads on its next event.
            Redis.GetSubscriber().Publish(RedisChannel.Literal(LiveChannel), payload, CommandFlags.FireAndForget);
        };
        logger.LogInformation("Live updates shared through Redis ({Connected})", Redis.IsConnected ? "connected" : "connecting");
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        live.Remote = null;
        return Task.CompletedTask;
    }

    /// <summary>Whether Redis answers now (for the readiness check).</summary>
    public async Task<bool> PingAsync()
    {
        try
        {
            await Redis.GetDatabase().PingAsync();
            return true;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            return false;
        }
    }

    private sealed record LiveMessage(string Origin, string[] Topics);
}
