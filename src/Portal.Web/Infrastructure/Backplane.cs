using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.StackExchangeRedis;
using Microsoft.Extensions.DependencyInjection.Extensions;
using StackExchange.Redis;

namespace Portal.Web.Infrastructure;

public static class BackplaneRegistration
{
    /// <summary>
    /// SignalR's Redis backplane for the portal's hubs, which keep taking connections while Redis is down
    /// (<see cref="BackplaneHubLifetimeManager{THub}"/>, docs/decisions/0024). Blazor's circuits need no backplane at
    /// all: a circuit talks only to its own browser, which sticky sessions keep on the instance that holds it.
    /// </summary>
    public static ISignalRServerBuilder AddPortalBackplane(this ISignalRServerBuilder signalR, string redis)
    {
        var configuration = ConfigurationOptions.Parse(redis);
        configuration.AbortOnConnectFail = false;
        configuration.ChannelPrefix = RedisChannel.Literal("portal-signalr");
        var backplane = new Backplane(configuration);
        signalR.AddStackExchangeRedis(options => options.ConnectionFactory = backplane.ConnectAsync);
        var services = signalR.Services;
        services.AddSingleton(backplane);
        services.RemoveAll(typeof(HubLifetimeManager<>));
        services.AddSingleton(typeof(RedisHubLifetimeManager<>));
        services.AddSingleton(typeof(HubLifetimeManager<>), typeof(BackplaneHubLifetimeManager<>));
        var circuitHub = typeof(Microsoft.AspNetCore.Components.Server.Circuits.Circuit).Assembly
            .GetType("Microsoft.AspNetCore.Components.Server.ComponentHub", throwOnError: true)!;
        services.AddSingleton(typeof(HubLifetimeManager<>).MakeGenericType(circuitHub), typeof(DefaultHubLifetimeManager<>).MakeGenericType(circuitHub));
        return signalR;
    }
}

/// <summary>
/// The Redis connection of SignalR's backplane, one for the portal's hubs, so that their lifetime managers can ask
/// whether Redis answers (<see cref="BackplaneHubLifetimeManager{THub}"/>).
/// </summary>
public sealed class Backplane
{
    private readonly ConfigurationOptions _configuration;
    private readonly Lazy<Task<IConnectionMultiplexer>> _connected;
    private volatile IConnectionMultiplexer? _connection;

    public Backplane(ConfigurationOptions configuration)
    {
        _configuration = configuration;
        _connected = new(ConnectedAsync, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>For <see cref="RedisOptions.ConnectionFactory"/>: the connection, once Redis answers.</summary>
    public Task<IConnectionMultiplexer> ConnectAsync(TextWriter log) => _connected.Value;

    /// <summary>
    /// Whether Redis answers now on the subscriptions' connection (the one that brings messages in), and SignalR's
    /// Redis lifetime managers have their connection.
    /// </summary>
    public bool IsConnected => _connected.Value.IsCompletedSuccessfully && _connection!.GetSubscriber().IsConnected();

    private async Task<IConnectionMultiplexer> ConnectedAsync()
    {
        var connection = await ConnectionMultiplexer.ConnectAsync(_configuration);
        _connection = connection;
        // SignalR's Redis lifetime manager subscribes its own channels (messages to all, group changes) right after it
        // gets its connection, and never again when that fails: it gets the connection once Redis answers.
        while (!connection.IsConnected) await Task.Delay(TimeSpan.FromMilliseconds(250));
        return connection;
    }
}

/// <summary>
/// A hub's connections on the Redis backplane, and on this instance alone while Redis is away. SignalR's Redis
/// lifetime manager refuses a connection whose Redis subscriptions fail (dotnet/aspnetcore#58971) and sends nothing,
/// not even to its own connections, while Redis is down. Here a connection is always accepted; one that could not be
/// subscribed in Redis is served from this instance ("off" the backplane) until it is subscribed once Redis is back.
/// While Redis is down, messages reach this instance's connections only; while it is up, they go through Redis (which
/// brings them back to the subscribed connections here too) and straight to the local connections still off it.
/// The portal's hubs use groups, Clients.All and replies to the caller; no client results.
/// </summary>
public sealed class BackplaneHubLifetimeManager<THub> : HubLifetimeManager<THub>, IDisposable where THub : Hub
{
    private readonly RedisHubLifetimeManager<THub> _redis;
    private readonly Backplane _backplane;
    private readonly ILogger _logger;
    /// <summary>Every connection of this instance, with its groups: what is sent while Redis is down.</summary>
    private readonly DefaultHubLifetimeManager<THub> _local;
    private readonly ConcurrentDictionary<string, Member> _members = new();
    private readonly CancellationTokenSource _disposed = new();
    private int _off;
    private int _rejoining;

    public BackplaneHubLifetimeManager(RedisHubLifetimeManager<THub> redis, Backplane backplane, ILoggerFactory loggers)
    {
        _redis = redis;
        _backplane = backplane;
        _logger = loggers.CreateLogger<BackplaneHubLifetimeManager<THub>>();
        _local = new DefaultHubLifetimeManager<THub>(loggers.CreateLogger<DefaultHubLifetimeManager<THub>>());
    }

    public override async Task OnConnectedAsync(HubConnectionContext connection)
    {
        await _local.OnConnectedAsync(connection);
        var member = new Member(connection);
        _members[connection.ConnectionId] = member;
        await member.Gate.WaitAsync();
        try
        {
            if (!await TryJoinAsync(member)) MoveOff(member);
        }
        finally { member.Gate.Release(); }
    }

    public override async Task OnDisconnectedAsync(HubConnectionContext connection)
    {
        await _local.OnDisconnectedAsync(connection);
        if (!_members.TryRemove(connection.ConnectionId, out var member)) return;
        await member.Gate.WaitAsync();
        try
        {
            if (member.Off)
            {
                member.Off = false;
                Interlocked.Decrement(ref _off);
            }
            if (member.Joined) Forget(member);
        }
        finally { member.Gate.Release(); }
    }

    public override Task AddToGroupAsync(string connectionId, string groupName, CancellationToken cancellationToken = default) =>
        ChangeGroupAsync(connectionId, groupName, add: true, cancellationToken);

    public override Task RemoveFromGroupAsync(string connectionId, string groupName, CancellationToken cancellationToken = default) =>
        ChangeGroupAsync(connectionId, groupName, add: false, cancellationToken);

    private async Task ChangeGroupAsync(string connectionId, string groupName, bool add, CancellationToken cancellationToken)
    {
        if (!_members.TryGetValue(connectionId, out var member))
        {
            // A connection of another instance: only Redis reaches it.
            if (add) await _redis.AddToGroupAsync(connectionId, groupName, cancellationToken);
            else await _redis.RemoveFromGroupAsync(connectionId, groupName, cancellationToken);
            return;
        }
        await member.Gate.WaitAsync(cancellationToken);
        try
        {
            lock (member.Groups)
            {
                if (add) member.Groups.Add(groupName);
                else member.Groups.Remove(groupName);
            }
            if (add) await _local.AddToGroupAsync(connectionId, groupName, cancellationToken);
            else await _local.RemoveFromGroupAsync(connectionId, groupName, cancellationToken);
            if (member.Off) return;
            try
            {
                if (!_backplane.IsConnected) throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, "Redis is unreachable");
                if (add) await _redis.AddToGroupAsync(connectionId, groupName, cancellationToken);
                else await _redis.RemoveFromGroupAsync(connectionId, groupName, cancellationToken);
            }
            catch (Exception e) when (IsRedisFailure(e))
            {
                _logger.LogWarning("Changing a group of connection {ConnectionId} in Redis failed ({Message}); it is served from this instance until Redis is back",
                    connectionId, e.Message);
                Forget(member);
                MoveOff(member);
            }
        }
        finally { member.Gate.Release(); }
    }

    /// <summary>Subscribes the connection and its groups in Redis; false (and nothing left subscribed) when Redis fails.</summary>
    private async Task<bool> TryJoinAsync(Member member)
    {
        if (!_backplane.IsConnected) return false;
        try
        {
            member.Joined = true;
            await _redis.OnConnectedAsync(member.Connection);
            foreach (var group in member.GroupList()) await _redis.AddToGroupAsync(member.Connection.ConnectionId, group);
            return true;
        }
        catch (Exception e) when (IsRedisFailure(e))
        {
            _logger.LogWarning("Subscribing connection {ConnectionId} in Redis failed ({Message}); it is served from this instance until Redis is back",
                member.Connection.ConnectionId, e.Message);
            Forget(member);
            return false;
        }
    }

    /// <summary>Drops the connection's Redis subscriptions, without waiting on a Redis that may not answer.</summary>
    private void Forget(Member member)
    {
        member.Joined = false;
        _ = ForgetAsync(member.Connection);
    }

    private async Task ForgetAsync(HubConnectionContext connection)
    {
        // Clean-up of a connection the Redis lifetime manager may know only in part (its subscribing failed): whatever
        // goes wrong here leaves at most a subscription to a channel nobody sends to.
        try { await _redis.OnDisconnectedAsync(connection); }
        catch (Exception e)
        {
            _logger.LogDebug("Unsubscribing connection {ConnectionId} in Redis failed ({Message})", connection.ConnectionId, e.Message);
        }
    }

    private void MoveOff(Member member)
    {
        if (member.Off) return;
        member.Off = true;
        Interlocked.Increment(ref _off);
        if (Interlocked.CompareExchange(ref _rejoining, 1, 0) == 0) _ = Task.Run(RejoinAsync);
    }

    /// <summary>Once Redis answers again, subscribes there the connections served from this instance alone.</summary>
    private async Task RejoinAsync()
    {
        try
        {
            while (!_disposed.IsCancellationRequested && Volatile.Read(ref _off) > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), _disposed.Token);
                if (!_backplane.IsConnected) continue;
                foreach (var member in _members.Values.Where(m => m.Off))
                {
                    await member.Gate.WaitAsync(_disposed.Token);
                    try
                    {
                        // Subscribed first, then no longer sent to directly: a message sent in between may arrive twice,
                        // none is lost.
                        if (!member.Off || !_members.ContainsKey(member.Connection.ConnectionId) || !await TryJoinAsync(member)) continue;
                        member.Off = false;
                        Interlocked.Decrement(ref _off);
                    }
                    finally { member.Gate.Release(); }
                }
            }
        }
        catch (OperationCanceledException) { return; }
        finally { Volatile.Write(ref _rejoining, 0); }
        // A connection moved off after the loop's last look starts it again.
        if (Volatile.Read(ref _off) > 0 && !_disposed.IsCancellationRequested && Interlocked.CompareExchange(ref _rejoining, 1, 0) == 0)
            _ = Task.Run(RejoinAsync);
    }

    public override Task SendAllAsync(string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        SendAsync(m => m.SendAllAsync(methodName, args, cancellationToken), methodName, args, _ => true, cancellationToken);

    public override Task SendAllExceptAsync(string methodName, object?[] args, IReadOnlyList<string> excludedConnectionIds, CancellationToken cancellationToken = default) =>
        SendAsync(m => m.SendAllExceptAsync(methodName, args, excludedConnectionIds, cancellationToken), methodName, args,
            m => !excludedConnectionIds.Contains(m.Connection.ConnectionId), cancellationToken);

    public override Task SendGroupAsync(string groupName, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        SendAsync(m => m.SendGroupAsync(groupName, methodName, args, cancellationToken), methodName, args, m => m.InGroup(groupName), cancellationToken);

    public override Task SendGroupsAsync(IReadOnlyList<string> groupNames, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        SendAsync(m => m.SendGroupsAsync(groupNames, methodName, args, cancellationToken), methodName, args, m => groupNames.Any(m.InGroup), cancellationToken);

    public override Task SendGroupExceptAsync(string groupName, string methodName, object?[] args, IReadOnlyList<string> excludedConnectionIds, CancellationToken cancellationToken = default) =>
        SendAsync(m => m.SendGroupExceptAsync(groupName, methodName, args, excludedConnectionIds, cancellationToken), methodName, args,
            m => m.InGroup(groupName) && !excludedConnectionIds.Contains(m.Connection.ConnectionId), cancellationToken);

    public override Task SendUserAsync(string userId, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        SendAsync(m => m.SendUserAsync(userId, methodName, args, cancellationToken), methodName, args,
            m => m.Connection.UserIdentifier == userId, cancellationToken);

    public override Task SendUsersAsync(IReadOnlyList<string> userIds, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        SendAsync(m => m.SendUsersAsync(userIds, methodName, args, cancellationToken), methodName, args,
            m => m.Connection.UserIdentifier is { } user && userIds.Contains(user), cancellationToken);

    public override Task SendConnectionAsync(string connectionId, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        _members.ContainsKey(connectionId)
            ? _local.SendConnectionAsync(connectionId, methodName, args, cancellationToken)
            : _redis.SendConnectionAsync(connectionId, methodName, args, cancellationToken);

    public override async Task SendConnectionsAsync(IReadOnlyList<string> connectionIds, string methodName, object?[] args, CancellationToken cancellationToken = default)
    {
        var local = connectionIds.Where(_members.ContainsKey).ToList();
        if (local.Count > 0) await _local.SendConnectionsAsync(local, methodName, args, cancellationToken);
        if (local.Count < connectionIds.Count)
            await _redis.SendConnectionsAsync(connectionIds.Except(local).ToList(), methodName, args, cancellationToken);
    }

    /// <param name="send">The message as either manager sends it.</param>
    /// <param name="to">Which of this instance's connections it is for, to pick those off the backplane.</param>
    private async Task SendAsync(Func<HubLifetimeManager<THub>, Task> send, string methodName, object?[] args, Func<Member, bool> to,
        CancellationToken cancellationToken)
    {
        if (!_backplane.IsConnected)
        {
            await send(_local);
            return;
        }
        try
        {
            await send(_redis);
        }
        catch (Exception e) when (IsRedisFailure(e))
        {
            // Redis went away before the message did: this instance's connections get it at least.
            _logger.LogWarning("Sending through Redis failed ({Message}); sent to this instance's connections only", e.Message);
            await send(_local);
            return;
        }
        if (Volatile.Read(ref _off) == 0) return;
        var off = _members.Values.Where(m => m.Off && to(m)).Select(m => m.Connection.ConnectionId).ToList();
        if (off.Count > 0) await _local.SendConnectionsAsync(off, methodName, args, cancellationToken);
    }

    private static bool IsRedisFailure(Exception e) => e is RedisException or TimeoutException or ObjectDisposedException;

    public void Dispose() => _disposed.Cancel();

    private sealed class Member(HubConnectionContext connection)
    {
        public HubConnectionContext Connection { get; } = connection;
        /// <summary>Its groups (locked: senders read them while the hub changes them).</summary>
        public HashSet<string> Groups { get; } = new(StringComparer.Ordinal);
        /// <summary>Membership changes and (re)subscribing one at a time.</summary>
        public SemaphoreSlim Gate { get; } = new(1, 1);
        /// <summary>The Redis lifetime manager knows the connection.</summary>
        public bool Joined { get; set; }
        /// <summary>Not subscribed in Redis: messages are sent to it directly.</summary>
        public volatile bool Off;

        public bool InGroup(string group) { lock (Groups) return Groups.Contains(group); }
        public List<string> GroupList() { lock (Groups) return [.. Groups]; }
    }
}
