using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Portal.Contracts;

namespace Portal.Agent.Tests.Agent;

/// <summary>
/// A minimal portal for the agent's own tests: a real Kestrel server with the agent hub over MessagePack and the
/// artifact endpoints, keeping what arrives in memory. It can be stopped and started again on the same port
/// while its state survives, like a portal that restarts. The real portal's end-to-end tests live with the portal.
/// </summary>
internal sealed class TestPortal : IAsyncDisposable
{
    private WebApplication? _app;

    public TestPortal() => Port = FreePort();

    public int Port { get; }
    public string Url => $"http://127.0.0.1:{Port}";
    public State Data { get; } = new();

    public sealed class State
    {
        public ConcurrentDictionary<(long Run, string Name, long Step), double> Points { get; } = new();
        public int DuplicatePoints;
        public ConcurrentQueue<JobAssignment> Queue { get; } = new();
        public ConcurrentDictionary<long, RunOutcome> Outcomes { get; } = new();
        public ConcurrentQueue<CheckpointInfo> Checkpoints { get; } = new();
        public ConcurrentDictionary<(long Run, string Kind), byte[]> Artifacts { get; } = new();
        public ConcurrentQueue<string> Logs { get; } = new();
        public ConcurrentQueue<AgentHello> Hellos { get; } = new();
        public ConcurrentDictionary<long, RunEnvironment> Environments { get; } = new();
        public int TakeJobCalls;
        public int Heartbeats;
        public ConcurrentDictionary<string, IAgentClient> Clients { get; } = new();
        /// <summary>Hub calls received, by method name.</summary>
        public ConcurrentDictionary<string, int> Calls { get; } = new();
        /// <summary>When set, answers a metric batch in place of storing it (return null to store it as usual).</summary>
        public Func<MetricBatch, MetricBatchAck?>? AnswerMetrics { get; set; }
        /// <summary>When set, answers an outcome in place of storing it (return null to store it as usual).</summary>
        public Func<RunOutcome, DeliveryAck?>? AnswerOutcome { get; set; }

        public int CallsOf(string method) => Calls.GetValueOrDefault(method);
    }

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(Url);
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(Data);
        // As in the portal: a full batch of points is far larger than SignalR's default 32 KB message limit.
        builder.Services.AddSignalR(o => o.MaximumReceiveMessageSize = 4 * 1024 * 1024).AddMessagePackProtocol();
        _app = builder.Build();
        _app.MapHub<AgentHub>(AgentProtocol.HubPath);
        _app.MapPost("/api/agent/runs/{runId:long}/artifacts/{kind}", async (long runId, string kind, HttpRequest request) =>
        {
            if (request.Headers.Authorization.ToString() != "Bearer test-token") return Results.Unauthorized();
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer);
            Data.Artifacts[(runId, kind)] = buffer.ToArray();
            return Results.Ok();
        });
        _app.MapGet("/api/agent/runs/{runId:long}/checkpoint", (long runId) =>
            Data.Artifacts.TryGetValue((runId, "checkpoint"), out var bytes) ? Results.Bytes(bytes, "application/octet-stream") : Results.NotFound());
        await _app.StartAsync();
    }

    public async Task StopAsync()
    {
        if (_app is null) return;
        await _app.StopAsync();
        await _app.DisposeAsync();
        _app = null;
    }

    public ValueTask DisposeAsync() => new(StopAsync());

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed class AgentHub(State data) : Hub<IAgentClient>, IAgentHub
    {
        public Task<AgentWelcome> Register(AgentHello hello)
        {
            data.Hellos.Enqueue(hello);
            data.Clients[Context.ConnectionId] = Clients.Caller;
            return Task.FromResult(new AgentWelcome(42, 1, []));
        }

        public Task Heartbeat(AgentHeartbeat heartbeat)
        {
            Interlocked.Increment(ref data.Heartbeats);
            return Task.CompletedTask;
        }

        public Task<JobAssignment?> TakeJob()
        {
            Interlocked.Increment(ref data.TakeJobCalls);
            return Task.FromResult(data.Queue.TryDequeue(out var job) ? job : null);
        }

        public Task<DeliveryAck> ReportEnvironment(RunEnvironmentReport report)
        {
            data.Environments[report.RunId] = report.Environment;
            return Task.FromResult(DeliveryAck.Delivered);
        }

        public Task<MetricBatchAck> SendMetrics(MetricBatch batch)
        {
            data.Calls.AddOrUpdate(nameof(SendMetrics), 1, (_, n) => n + 1);
            if (data.AnswerMetrics?.Invoke(batch) is { } answer) return Task.FromResult(answer);
            foreach (var p in batch.Points)
                if (!data.Points.TryAdd((batch.RunId, p.Name, p.Step), p.Value)) Interlocked.Increment(ref data.DuplicatePoints);
            return Task.FromResult(new MetricBatchAck(batch.RunId, batch.BatchSequence, batch.Points.Count, [], null));
        }

        public Task<DeliveryAck> AppendLog(RunLogLines lines)
        {
            data.Calls.AddOrUpdate(nameof(AppendLog), 1, (_, n) => n + 1);
            foreach (var line in lines.Lines) data.Logs.Enqueue(line);
            return Task.FromResult(DeliveryAck.Delivered);
        }

        public Task<DeliveryAck> CheckpointSaved(CheckpointInfo checkpoint)
        {
            data.Checkpoints.Enqueue(checkpoint);
            return Task.FromResult(DeliveryAck.Delivered);
        }

        public Task<DeliveryAck> RunFinished(RunOutcome outcome)
        {
            data.Calls.AddOrUpdate(nameof(RunFinished), 1, (_, n) => n + 1);
            if (data.AnswerOutcome?.Invoke(outcome) is { } answer) return Task.FromResult(answer);
            data.Outcomes[outcome.RunId] = outcome;
            return Task.FromResult(DeliveryAck.Delivered);
        }
    }
}
