using MessagePack;

namespace Portal.Contracts;

/// <summary>
/// The wire contract between the portal and its training agents. Agents connect to
/// <see cref="AgentProtocol.HubPath"/> with MessagePack and an agent token as the bearer
/// access token (query string <c>access_token</c> for the WebSocket, header otherwise).
/// </summary>
public static class AgentProtocol
{
    public const string HubPath = "/hubs/agents";

    /// <summary>Checkpoint and config uploads: POST multipart/octet-stream with the agent token.</summary>
    public static string ArtifactUploadPath(long runId, string kind) => $"/api/agent/runs/{runId}/artifacts/{kind}";

    /// <summary>Download of a run's latest checkpoint, used when a run resumes on any agent.</summary>
    public static string CheckpointDownloadPath(long runId) => $"/api/agent/runs/{runId}/checkpoint";

    /// <summary>Most points one <see cref="MetricBatch"/> may carry; larger batches are refused whole.</summary>
    public const int MaxPointsPerBatch = 5_000;

    /// <summary>Most log lines one <see cref="RunLogLines"/> may carry.</summary>
    public const int MaxLogLinesPerCall = 1_000;
}

/// <summary>Methods the portal's agent hub offers (agent to portal).</summary>
public interface IAgentHub
{
    /// <summary>First call after every (re)connect. Returns the agent's id and the heartbeat interval.</summary>
    Task<AgentWelcome> Register(AgentHello hello);

    Task Heartbeat(AgentHeartbeat heartbeat);

    /// <summary>Takes the next queued job, or null when there is none. The run moves to Running.</summary>
    Task<JobAssignment?> TakeJob();

    /// <summary>Stores a batch of metric points. Idempotent per (run, name, step).</summary>
    Task<MetricBatchAck> SendMetrics(MetricBatch batch);

    /// <summary>The portal's refusals come back in the ack; only an unexpected failure throws.</summary>
    Task<DeliveryAck> AppendLog(RunLogLines lines);

    Task<DeliveryAck> CheckpointSaved(CheckpointInfo checkpoint);

    Task<DeliveryAck> RunFinished(RunOutcome outcome);

    /// <summary>The environment a run trains in, sent when the agent starts (or resumes) it.</summary>
    Task<DeliveryAck> ReportEnvironment(RunEnvironmentReport report);
}

/// <summary>Methods an agent offers (portal to agent).</summary>
public interface IAgentClient
{
    /// <summary>A job was queued: an idle agent should call TakeJob.</summary>
    Task JobAvailable();

    /// <summary>Stop the run as soon as possible and report it Cancelled.</summary>
    Task CancelRun(long runId);
}

public sealed record AgentHello(
    string Name,
    AgentHardware Hardware,
    int MaxConcurrentJobs,
    IReadOnlyList<long> RunningRunIds,
    string AgentVersion,
    /// <summary>
    /// Random per agent process. A process that reconnects takes over its own earlier connection; another live
    /// process with the same name is refused.
    /// </summary>
    string? InstanceId = null,
    /// <summary>The numeric self-check the agent ran before taking jobs; null from agents that predate it.</summary>
    NumericCheckReport? NumericCheck = null);

public enum NumericCheckStatus { Passed, PassedWithFallback, Failed }

/// <summary>
/// The agent's numeric self-check: its layers computed in float32 against float64 on the same machine. An agent whose
/// check failed takes no job; one that passed only with a fallback (e.g. one libtorch thread) trains with that.
/// </summary>
public sealed record NumericCheckReport(
    NumericCheckStatus Status,
    /// <summary>What the agent trains with after the check, e.g. "cpu, 2 threads" or "cpu, 1 thread (fallback)".</summary>
    string Configuration,
    /// <summary>The first operation that failed (as configured, even when the fallback passed), if any.</summary>
    string? FailedOperation,
    double? MaxAbsError,
    double? MaxRelError,
    /// <summary>One sentence for people: what passed, what failed and by how much.</summary>
    string Summary,
    double Seconds);

public sealed record AgentHardware(
    int CpuCores,
    long MemoryBytes,
    string? GpuName,
    long? GpuMemoryBytes,
    bool CudaAvailable,
    string TorchVersion,
    string Os);

public sealed record AgentWelcome(long AgentId, int HeartbeatSeconds, IReadOnlyList<long> RunsToCancel);

public sealed record AgentHeartbeat(IReadOnlyList<long> RunningRunIds, long PendingPoints);

public sealed record JobAssignment(
    long RunId,
    string Recipe,
    string ConfigJson,
    int Seed,
    /// <summary>When set, restore the checkpoint at this step (download it) and continue from the next step.</summary>
    long? ResumeFromStep);

public sealed record MetricPointDto(string Name, long Step, double Value, DateTimeOffset WallTime);

/// <summary>Sent in columns (<see cref="MetricBatchFormatter"/>): the bulk of what agents send, so its size and cost count.</summary>
[MessagePackFormatter(typeof(MetricBatchFormatter))]
public sealed record MetricBatch(long RunId, long BatchSequence, IReadOnlyList<MetricPointDto> Points);

/// <summary>
/// Accepted counts points stored or already present; rejected points carry a reason. An <c>Error</c> means none
/// of the batch was stored: send it again when <c>Retryable</c>, otherwise the portal refuses it for good.
/// </summary>
public sealed record MetricBatchAck(long RunId, long BatchSequence, int Accepted, IReadOnlyList<RejectedPoint> Rejected, string? Error,
    bool Retryable = false);

/// <summary>
/// Answer to a log, checkpoint or outcome report: delivered when <c>Error</c> is null; otherwise nothing was stored,
/// and the report should be sent again when <c>Retryable</c> (the portal had a passing problem) and dropped when not.
/// </summary>
public sealed record DeliveryAck(string? Error, bool Retryable)
{
    public static readonly DeliveryAck Delivered = new(null, false);
    public static DeliveryAck Refused(string reason) => new(reason, false);
    public static DeliveryAck Retry(string reason) => new(reason, true);
}

public sealed record RejectedPoint(string Name, long Step, string Reason);

public sealed record RunLogLines(long RunId, IReadOnlyList<string> Lines);

public sealed record CheckpointInfo(long RunId, long Step, string Sha256, long SizeBytes);

/// <summary>
/// Where a run trained: what decides which numerical kernels ran (CPU and its ISA flags, libtorch and its threads,
/// oneDNN's ISA, GPU, driver, CUDA) and which code ran them (agent version and commit).
/// </summary>
public sealed record RunEnvironment(
    string CpuModel,
    /// <summary>The CPU's instruction-set flags that select kernels (avx, avx2, fma, avx512*, amx*, ...), space-separated.</summary>
    string CpuFlags,
    int CpuCores,
    string TorchVersion,
    /// <summary>"CPU" or "CUDA x.y": what the loaded libtorch was built for.</summary>
    string TorchBuild,
    /// <summary>The ISA level ATen's CPU kernels dispatch to (e.g. AVX512), or "unknown".</summary>
    string AtenCpuCapability,
    /// <summary>ONEDNN_MAX_CPU_ISA (or DNNL_MAX_CPU_ISA) when set, else the default: the highest the CPU supports.</summary>
    string OneDnnIsa,
    string OneDnnVersion,
    int IntraOpThreads,
    int InterOpThreads,
    string Device,
    string? GpuName,
    string? GpuDriver,
    string? CudaVersion,
    string Os,
    string DotNetVersion,
    string TorchSharpVersion,
    string AgentVersion,
    /// <summary>The git commit the agent was built from, or "unknown".</summary>
    string AgentCommit,
    /// <summary>The agent's numeric self-check, one line (status and configuration).</summary>
    string NumericCheck);

public sealed record RunEnvironmentReport(long RunId, RunEnvironment Environment);

public enum RunOutcomeStatus { Succeeded, Failed, Cancelled }

public sealed record RunOutcome(
    long RunId,
    RunOutcomeStatus Status,
    IReadOnlyDictionary<string, double> FinalMetrics,
    string? Error,
    long LastStep);
