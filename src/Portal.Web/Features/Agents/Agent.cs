namespace Portal.Web.Features.Agents;

public sealed class Agent
{
    public long Id { get; set; }
    public string Name { get; set; } = "";
    public long TokenId { get; set; }
    public int CpuCores { get; set; }
    public long MemoryBytes { get; set; }
    public string? GpuName { get; set; }
    public long? GpuMemoryBytes { get; set; }
    public bool CudaAvailable { get; set; }
    public string TorchVersion { get; set; } = "";
    public string Os { get; set; } = "";
    public int MaxConcurrentJobs { get; set; } = 1;
    public DateTimeOffset? LastHeartbeatAt { get; set; }
    public bool IsConnected { get; set; }
    /// <summary>The numeric self-check the agent ran at start-up; null from agents that do not run one.</summary>
    public Portal.Contracts.NumericCheckStatus? NumericCheckStatus { get; set; }
    public string? NumericCheckSummary { get; set; }
}

/// <summary>A secret an admin creates for agents; only its hash is stored and it is shown once.</summary>
public sealed class AgentToken
{
    public long Id { get; set; }
    public string Name { get; set; } = "";
    public string TokenHash { get; set; } = "";
    /// <summary>First characters of the token, so an admin can tell tokens apart.</summary>
    public string Prefix { get; set; } = "";
    public string CreatedById { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
}
