using Microsoft.AspNetCore.SignalR;
using Portal.Contracts;
using Portal.Web.Features.Runs;

namespace Portal.Web.Features.Agents;

/// <summary>Runs' calls to agents (<see cref="IAgentCalls"/>), sent over the agents' hub.</summary>
internal sealed class AgentCalls(IHubContext<AgentHub, IAgentClient> hub) : IAgentCalls
{
    public Task JobAvailableAsync() => hub.Clients.All.JobAvailable();

    public Task CancelRunAsync(long agentId, long runId) => hub.Clients.Group(AgentHub.Group(agentId)).CancelRun(runId);
}
