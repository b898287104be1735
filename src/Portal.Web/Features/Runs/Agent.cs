namespace Portal.Web.Features.Runs;

/// <summary>
/// A machine that runs runs, as it registered. Runs need it to dispatch jobs (capacity, numeric check) and to show
/// where a run ran, so it sits here, below the Agents feature that registers and authenticates it.
/// </summary>
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
