using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Portal.Web.Data;

namespace Portal.Testing;

/// <summary>
/// Private PostgreSQL and Redis servers for the test process: Debian's binaries (test.sh installs them), started on
/// free loopback ports in temporary folders the first time a test asks, and stopped when the process exits.
/// PostgreSQL refuses to run as root, so as root its cluster belongs to the `postgres` user.
/// </summary>
public static class TestServers
{
    /// <summary>Set to "postgres" to run the portal's service tests on PostgreSQL instead of SQLite.</summary>
    public const string DatabaseVariable = "PORTAL_TEST_DATABASE";

    public static bool PostgresRequested =>
        string.Equals(Environment.GetEnvironmentVariable(DatabaseVariable), "postgres", StringComparison.OrdinalIgnoreCase);

    private static readonly Lazy<PostgresServer> LazyPostgres = new(() => PostgresServer.Start(), LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly Lazy<RedisServer> LazyRedis = new(() => RedisServer.Start(), LazyThreadSafetyMode.ExecutionAndPublication);

    public static PostgresServer Postgres => LazyPostgres.Value;
    public static RedisServer Redis => LazyRedis.Value;

    static TestServers()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => StopStarted();
    }

    /// <summary>Stops the servers this process started (Redis first: it stops at once).</summary>
    public static void StopStarted()
    {
        if (LazyRedis.IsValueCreated) LazyRedis.Value.Stop();
        if (LazyPostgres.IsValueCreated) LazyPostgres.Value.Stop();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    internal static string Run(string file, string arguments, bool asPostgres = false)
    {
        var asRoot = asPostgres && Environment.UserName == "root";
        var start = new ProcessStartInfo(asRoot ? "runuser" : file, asRoot ? $"-u postgres -- {file} {arguments}" : arguments)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {file}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {arguments} exited with {process.ExitCode}: {output.Result}{error.Result}");
        return output.Result;
    }
}

/// <summary>A private PostgreSQL cluster. Each test gets a database copied from a migrated template (fast).</summary>
public sealed class PostgresServer
{
    private readonly string _folder;
    private readonly string _bin;
    private readonly object _templateGate = new();
    private bool _templateReady;

    public int Port { get; }

    private PostgresServer(string folder, string bin, int port)
    {
        _folder = folder;
        _bin = bin;
        Port = port;
    }

    public static PostgresServer Start()
    {
        var bin = Directory.GetDirectories("/usr/lib/postgresql").OrderByDescending(d => d, StringComparer.Ordinal)
                      .Select(d => Path.Combine(d, "bin")).FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")))
                  ?? throw new InvalidOperationException("PostgreSQL is not installed (apt-get install postgresql).");
        var folder = Path.Combine(Path.GetTempPath(), "portal-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(folder);
        if (Environment.UserName == "root") TestServers.Run("chown", $"postgres {folder}");
        var port = TestServers.FreePort();
        TestServers.Run(Path.Combine(bin, "initdb"), $"-D {folder}/data -U portal --auth=trust -E UTF8 --no-sync", asPostgres: true);
        // fsync off: a test server is thrown away, and the shared machine's disk is slow.
        TestServers.Run(Path.Combine(bin, "pg_ctl"),
            $"-D {folder}/data -l {folder}/log -w -t 60 -o \"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300\" start",
            asPostgres: true);
        return new PostgresServer(folder, bin, port);
    }

    /// <summary>The server's main process (postmaster), whose children are its backends; for CPU accounting.</summary>
    public int ProcessId => int.Parse(File.ReadLines(Path.Combine(_folder, "data", "postmaster.pid")).First());

    public string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port};Username=portal;Database={database};Pooling=true;Maximum Pool Size=20;Include Error Detail=true";

    /// <summary>A new, migrated, empty database; its connection string.</summary>
    public string CreateDatabase()
    {
        lock (_templateGate)
        {
            if (!_templateReady)
            {
                Execute("CREATE DATABASE portal_template");
                var options = new DbContextOptionsBuilder<PortalDbContext>().UseNpgsql(ConnectionString("portal_template")).Options;
                using (var db = new PostgresPortalDbContext(options)) db.Database.Migrate();
                NpgsqlConnection.ClearAllPools();
                _templateReady = true;
            }
            var name = "portal_" + Guid.NewGuid().ToString("N");
            Execute($"CREATE DATABASE {name} TEMPLATE portal_template");
            return ConnectionString(name);
        }
    }

    /// <summary>A new database without any table (the portal's migrations create them); its connection string.</summary>
    public string CreateEmptyDatabase()
    {
        var name = "portal_" + Guid.NewGuid().ToString("N");
        Execute($"CREATE DATABASE {name}");
        return ConnectionString(name);
    }

    private readonly Dictionary<string, string> _byFolder = [];

    /// <summary>The database of a portal data folder: created on first use, the same one after a restart.</summary>
    public string DatabaseFor(string dataFolder)
    {
        lock (_byFolder)
        {
            if (!_byFolder.TryGetValue(dataFolder, out var connectionString))
                _byFolder[dataFolder] = connectionString = CreateDatabase();
            return connectionString;
        }
    }

    public void DropDatabase(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        NpgsqlConnection.ClearAllPools();
        Execute($"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    }

    private void Execute(string sql)
    {
        using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }

    /// <summary>Stops the server (for tests of a database that goes away) or, with <paramref name="start"/>, starts it again.</summary>
    public void Control(bool start)
    {
        TestServers.Run(Path.Combine(_bin, "pg_ctl"), start
            ? $"-D {_folder}/data -l {_folder}/log -w -t 60 -o \"-p {Port} -k {_folder} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300\" start"
            : $"-D {_folder}/data -w -t 60 -m fast stop", asPostgres: true);
    }

    public void Stop()
    {
        try { TestServers.Run(Path.Combine(_bin, "pg_ctl"), $"-D {_folder}/data -w -t 30 -m immediate stop", asPostgres: true); }
        catch (InvalidOperationException) { }
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>A private Redis server without persistence.</summary>
public sealed class RedisServer
{
    private readonly string _folder;

    public int Port { get; }

    public string Configuration => $"127.0.0.1:{Port},abortConnect=false";

    private RedisServer(string folder, int port)
    {
        _folder = folder;
        Port = port;
    }

    public static RedisServer Start()
    {
        var server = Reserve();
        server.Control(start: true);
        return server;
    }

    /// <summary>A server with its folder and port chosen but not started yet (for tests of a Redis that is down at first).</summary>
    public static RedisServer Reserve()
    {
        var folder = Path.Combine(Path.GetTempPath(), "portal-redis-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(folder);
        return new RedisServer(folder, TestServers.FreePort());
    }

    /// <summary>Starts the server and waits until it answers, or stops it and waits until its port is closed.</summary>
    public void Control(bool start)
    {
        if (start)
        {
            TestServers.Run("redis-server",
                $"--port {Port} --bind 127.0.0.1 --save \"\" --appendonly no --daemonize yes --dir {_folder} --pidfile {_folder}/redis.pid --logfile {_folder}/redis.log");
        }
        else
        {
            Kill();
        }
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Answers() != start)
        {
            if (DateTime.UtcNow > deadline) throw new InvalidOperationException($"redis-server did not {(start ? "start" : "stop")} on port {Port}.");
            Thread.Sleep(50);
        }
    }

    private bool Answers()
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, Port);
            return File.Exists(Path.Combine(_folder, "redis.pid"));
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private void Kill()
    {
        var pidFile = Path.Combine(_folder, "redis.pid");
        try
        {
            var pid = int.Parse(File.ReadAllText(pidFile).Trim());
            using var process = Process.GetProcessById(pid);
            process.Kill();
            process.WaitForExit(30_000);
        }
        catch (Exception e) when (e is IOException or ArgumentException or InvalidOperationException or FormatException) { }
        try { File.Delete(pidFile); } catch (IOException) { }
    }

    public void Stop()
    {
        Kill();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
