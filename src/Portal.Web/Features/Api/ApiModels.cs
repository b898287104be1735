using System.Text.Json;
using System.Text.Json.Serialization;
using Portal.Web.Features.Projects;
using Portal.Web.Features.Releases;
using Portal.Web.Features.Runs;
using Portal.Web.Features.Tasks;

namespace Portal.Web.Features.Api;

// What /api/v1 reads and writes. Request bodies refuse fields they do not know, so a misspelt field is an error
// rather than a silently ignored default.

public sealed record ApiMe(string UserId, string DisplayName, IReadOnlyList<string> Roles, IReadOnlyList<string> Scopes);

public sealed record ApiProject(long Id, string Name, string Summary, ReproductionStage Stage, bool IsDemo, int OpenTasks, int ClaimCount);

public sealed record ApiClaim(long Id, string Metric, string Dataset, string Split, double Value, string Source);

public sealed record ApiProjectDetail(long Id, string Name, string Summary, string PaperTitle, string PaperAuthors, int PaperYear, string PaperUrl,
    double Tolerance, ReproductionStage Stage, int ClaimLimitPerMember, int LostRunRestarts, bool IsDemo, IReadOnlyList<ApiClaim> Claims);

public sealed record ApiTask(long Id, long ProjectId, string Title, ReproductionStage Stage, ModelComponent Component, double? EstimateHours,
    ProjectTaskStatus Status, string? AssigneeId, string? AssigneeName, int Version);

public sealed record ApiRunSummary(long Id, string Recipe, RunStatus Status, string StartedBy, string? Agent, DateTimeOffset QueuedAt,
    DateTimeOffset? EndedAt, long LastStep, string? Commit, IReadOnlyDictionary<string, double?> FinalMetrics);

public sealed record ApiRestart(DateTimeOffset At, long FromStep, bool Automatic, string Reason);

public sealed record ApiRun(long Id, long ProjectId, string Project, string Recipe, RunStatus Status, int Seed, string? Commit, string Dataset, string Split,
    string StartedBy, string? Agent, DateTimeOffset QueuedAt, DateTimeOffset? StartedAt, DateTimeOffset? EndedAt, long LastStep,
    long? LastCheckpointStep, string? FailureReason, int AutoRestarts, long PointCount, JsonElement Config,
    IReadOnlyDictionary<string, double?> FinalMetrics, IReadOnlyList<ApiRestart> Restarts)
{
    [JsonIgnore] public bool IsFinished => Status is RunStatus.Succeeded or RunStatus.Failed or RunStatus.Cancelled or RunStatus.Lost;
}

public sealed record ApiQueued(IReadOnlyList<long> RunIds);

public sealed record ApiPoint(long Step, double? Value, DateTimeOffset Time);

public sealed record ApiSeries(string Name, int Level, long Count, long MinStep, long MaxStep, IReadOnlyList<ApiPoint> Points);

public sealed record ApiMetrics(long RunId, RunStatus Status, long LastStep, IReadOnlyDictionary<string, double?> FinalMetrics, IReadOnlyList<ApiSeries> Series);

public sealed record ApiLogLine(long Id, DateTimeOffset At, string Text);

public sealed record ApiArtifact(long Id, string Kind, string FileName, long SizeBytes, string Sha256, long? Step, DateTimeOffset CreatedAt, string Download);

public sealed record ApiReleaseSummary(long Id, string Name, string Version, string Variant, ReleaseStatus Status, int GatesPassed, int GateCount);

public sealed record ApiGate(GateKind Kind, string Title, bool Passed, string Summary, IReadOnlyList<string> Reasons, string Evidence);

public sealed record ApiClaimResult(string Metric, string Dataset, string Split, double Claimed, double? Mean, double? Gap, bool Within, double Tolerance,
    IReadOnlyList<long> CountedRuns);

/// <summary>A lead's decision; <c>Standing</c> is false once the evidence it was made on has changed.</summary>
public sealed record ApiDecision(string Lead, ReleaseDecision Decision, string? Reason, string Fingerprint, DateTimeOffset At, bool Standing);

public sealed record ApiSignOff(int RequiredApprovals, int StandingApprovals, bool Passed, IReadOnlyList<ApiDecision> Decisions);

public sealed record ApiRelease(long Id, long ProjectId, string Name, string Version, string Variant, string Commit, ReleaseStatus Status,
    string Fingerprint, bool AllGatesPass, IReadOnlyList<ApiGate> Gates, IReadOnlyList<ApiClaimResult> Claims, ApiSignOff SignOff,
    IReadOnlyList<long> ChosenRunIds);

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record QueueRunRequest(string Recipe, JsonElement? Config = null, int? Seed = null, IReadOnlyList<int>? Seeds = null,
    string? Commit = null, long? TaskId = null);

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record MoveTaskRequest(string To);

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record AssignTaskRequest(string? UserId = null, string? UserName = null);

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record ChooseRunsRequest(IReadOnlyList<long> RunIds);
