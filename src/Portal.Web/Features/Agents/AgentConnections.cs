using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;

namespace Portal.Web.Features.Agents;

/// <summary>The agent hub connections that are open now, so that a revoked token can be cut off at once.</summary>
public sealed class AgentConnections
{
    private readonly ConcurrentDictionary<string, (HubCallerContext Context, long TokenId)> _open = new();

    public void Opened(HubCallerContext context, long tokenId)
    {
        _open[context.ConnectionId] = (context, tokenId);
        Infrastructure.PortalMeters.ConnectedAgents.Record(_open.Count);
    }

    public void Closed(string connectionId)
    {
        _open.TryRemove(connectionId, out _);
        Infrastructure.PortalMeters.ConnectedAgents.Record(_open.Count);
    }

    public bool IsOpen(string connectionId) => _open.ContainsKey(connectionId);

    public void AbortToken(long tokenId)
    {
        foreach (var (_, (context, id)) in _open)
            if (id == tokenId) context.Abort();
    }
}
