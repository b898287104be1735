using Portal.Testing;
using Portal.Web.Tests.Agents;

namespace Portal.Web.Tests.Cluster;

/// <summary>
/// Two real portal instances (A and B) on one database of the test run's private PostgreSQL server and its private
/// Redis, as behind a load balancer: what one instance stores or announces, the other sees.
/// </summary>
public sealed class TwoInstances : IAsyncDisposable
{
    public string Database { get; } = TestServers.Postgres.CreateDatabase();
    public PortalAppFactory A { get; }
    public PortalAppFactory B { get; }

    private readonly Action<PortalAppFactory>? _configure;
    private readonly string _redis;

    /// <param name="configure">Settings both instances share, applied before they start.</param>
    /// <param name="redis">A Redis of the test's own (one it stops and starts); the test run's shared one otherwise.</param>
    public TwoInstances(Action<PortalAppFactory>? configure = null, RedisServer? redis = null)
    {
        _configure = configure;
        _redis = (redis ?? TestServers.Redis).Configuration;
        A = Instance();
        // A migrates and seeds the demo data first; B then starts on the same database and finds it ready.
        _ = A.ServerAddress;
        B = Instance();
        _ = B.ServerAddress;
    }

    private PortalAppFactory Instance()
    {
        var app = new PortalAppFactory().UsePostgres(Database);
        app.Settings["Portal:Redis"] = _redis;
        AgentTestData.UseFastHeartbeats(app);
        _configure?.Invoke(app);
        return app;
    }

    public async ValueTask DisposeAsync()
    {
        await A.DisposeAsync();
        await B.DisposeAsync();
        TestServers.Postgres.DropDatabase(Database);
    }
}
