using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using Portal.Contracts;
using Portal.Web.Features.Runs;

namespace Portal.Web.Features.Agents;

/// <summary>
/// The agents' hub. Thin: each call goes to the service that owns it. Reports (points, logs, checkpoints,
/// outcomes) are answered with an ack that says whether they were refused and whether to send them again; other
/// caller errors become a <see cref="HubException"/> whose message the agent logs. The connection stays up.
/// </summary>
[Authorize(Policy = AgentAuth.Policy)]
public sealed class AgentHub(AgentSessions sessions, RunDispatch dispatch, MetricIngestion ingestion, AgentConnections connections)
    : Hub<IAgentClient>, IAgentHub
{
    private const string AgentIdKey = "agent-id";

    public static string Group(long agentId) => $"agent:{agentId}";

    public override Task OnConnectedAsync()
    {
        connections.Opened(Context, AgentAuth.TokenId(Context.User!));
        return Task.CompletedTask;
    }

    public override async Task OnDisconnectedAsync(Exception? exception)
    {
        connections.Closed(Context.ConnectionId);
        if (Context.Items.TryGetValue(AgentIdKey, out var id) && id is long agentId)
            await sessions.DisconnectedAsync(agentId, Context.ConnectionId);
    }

    public async Task<AgentWelcome> Register(AgentHello hello)
    {
        var welcome = await Guard(() => sessions.RegisterAsync(AgentAuth.TokenId(Context.User!), Context.ConnectionId, hello));
        Context.Items[AgentIdKey] = welcome.AgentId;
        await Groups.AddToGroupAsync(Context.ConnectionId, Group(welcome.AgentId));
        return welcome;
    }

    public Task Heartbeat(AgentHeartbeat heartbeat) => Guard(() => sessions.HeartbeatAsync(AgentId, heartbeat));

    public Task<JobAssignment?> TakeJob() => Guard(() => dispatch.TakeJobAsync(AgentId));

    public Task<MetricBatchAck> SendMetrics(MetricBatch batch) => ingestion.IngestAsync(AgentId, batch, Context.ConnectionAborted);

    public Task<DeliveryAck> AppendLog(RunLogLines lines) => dispatch.AppendLogAsync(AgentId, lines);

    public Task<DeliveryAck> CheckpointSaved(CheckpointInfo checkpoint) => dispatch.CheckpointSavedAsync(AgentId, checkpoint);

    public Task<DeliveryAck> RunFinished(RunOutcome outcome) => dispatch.FinishAsync(AgentId, outcome);

    public Task<DeliveryAck> ReportEnvironment(RunEnvironmentReport report) => dispatch.RecordEnvironmentAsync(AgentId, report);

    private long AgentId => Context.Items.TryGetValue(AgentIdKey, out var id) && id is long agentId
        ? agentId
        : throw new HubException("Call Register first: this connection has not registered an agent.");

    private static async Task Guard(Func<Task> action)
    {
        try { await action(); }
        catch (Infrastructure.PortalError e) { throw new HubException(e.Message); }
    }

    private static async Task<T> Guard<T>(Func<Task<T>> action)
    {
        try { return await action(); }
        catch (Infrastructure.PortalError e) { throw new HubException(e.Message); }
    }
}
