namespace Portal.Web.Features.Runs;

/// <summary>
/// The calls runs make to connected agents. The agents' hub lives in the Agents feature, which depends on runs;
/// runs reach it through this interface (implemented there) so that the dependency goes one way only.
/// </summary>
public interface IAgentCalls
{
    /// <summary>Tells connected agents that a job is waiting.</summary>
    Task JobAvailableAsync();

    /// <summary>Asks the agent that runs a run to stop it.</summary>
    Task CancelRunAsync(long agentId, long runId);
}
