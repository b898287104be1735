using System.Threading.RateLimiting;
using StackExchange.Redis;

namespace Portal.Web.Features.Api;

/// <summary>
/// A token's fixed window counted in Redis, so that every instance behind the load balancer counts the same
/// requests (docs/decisions/0022). One Lua script increments the window's counter and starts its expiry on the first
/// request, atomically, so two instances never both open a window. While Redis cannot be reached the instance
/// counts on its own (<paramref name="fallback"/>) rather than refusing or failing every API call.
/// </summary>
internal sealed class SharedFixedWindowLimiter(IConnectionMultiplexer redis, string key, int permitLimit, TimeSpan window, RateLimiter fallback)
    : RateLimiter
{
    private static readonly LuaScript Count = LuaScript.Prepare("""
        local count = redis.call('INCRBY', @key, @permits)
        local ttl = redis.call('PTTL', @key)
        if ttl < 0 then
          redis.call('PEXPIRE', @key, @window)
          ttl = tonumber(@window)
        end
        return { count, ttl }
        """);

    private long _lastUsed = Environment.TickCount64;

    /// <summary>How long the partition went unused; the framework drops idle partitions (the count stays in Redis).</summary>
    public override TimeSpan? IdleDuration => TimeSpan.FromMilliseconds(Environment.TickCount64 - Interlocked.Read(ref _lastUsed));

    public override RateLimiterStatistics? GetStatistics() => null;

    // The middleware may ask synchronously first; asking Redis here (a sub-millisecond round trip) keeps the verdict
    // the same whichever way it asks.
    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        Interlocked.Exchange(ref _lastUsed, Environment.TickCount64);
        if (permitCount == 0 || !redis.IsConnected) return fallback.AttemptAcquire(permitCount);
        try
        {
            return Decide(redis.GetDatabase().ScriptEvaluate(Count, Arguments(permitCount)));
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            return fallback.AttemptAcquire(permitCount);
        }
    }

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _lastUsed, Environment.TickCount64);
        if (permitCount == 0 || !redis.IsConnected) return await fallback.AcquireAsync(permitCount, cancellationToken);
        try
        {
            return Decide(await redis.GetDatabase().ScriptEvaluateAsync(Count, Arguments(permitCount)));
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            return await fallback.AcquireAsync(permitCount, cancellationToken);
        }
    }

    private object Arguments(int permitCount) => new { key = (RedisKey)key, permits = permitCount, window = (long)window.TotalMilliseconds };

    private RateLimitLease Decide(RedisResult result)
    {
        var values = (RedisResult[])result!;
        var count = (long)values[0];
        var left = TimeSpan.FromMilliseconds(Math.Max(1, (long)values[1]));
        return new Lease(count <= permitLimit, count <= permitLimit ? null : left);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) fallback.Dispose();
        base.Dispose(disposing);
    }

    private sealed class Lease(bool acquired, TimeSpan? retryAfter) : RateLimitLease
    {
        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = metadataName == MetadataName.RetryAfter.Name ? retryAfter : null;
            return metadata is not null;
        }
    }
}
