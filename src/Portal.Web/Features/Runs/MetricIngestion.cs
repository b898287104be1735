using Microsoft.Extensions.Options;
using Portal.Contracts;

namespace Portal.Web.Features.Runs;

/// <summary>
/// Checks an agent's metric batch and hands the valid points to the <see cref="MetricWriter"/>. A bad point is
/// rejected with its reason and the rest are stored; a bad batch (too large, someone else's run) is refused whole.
/// NaN and infinite values are valid: they are what a diverging run produces.
/// </summary>
public sealed class MetricIngestion(MetricWriter writer, RunDispatch dispatch, RunRefusals refusals, IOptions<RunsOptions> options,
    ILogger<MetricIngestion> logger)
{
    public const int MaxNameLength = 128;

    public async Task<MetricBatchAck> IngestAsync(long agentId, MetricBatch? batch, CancellationToken cancellationToken)
    {
        if (batch is null) return new MetricBatchAck(0, 0, 0, [], "The batch is empty.");
        if (batch.Points is null) return new MetricBatchAck(batch.RunId, batch.BatchSequence, 0, [], "The batch has no points list.");
        if (batch.Points.Count > AgentProtocol.MaxPointsPerBatch)
        {
            logger.LogWarning("Agent {Agent} sent {Count} points for run {Run} in one batch; refused", agentId, batch.Points.Count, batch.RunId);
            return Refuse(batch, $"The batch has {batch.Points.Count} points; at most {AgentProtocol.MaxPointsPerBatch} are accepted per batch. Split it.");
        }

        var valid = new List<MetricPointDto>(batch.Points.Count);
        var rejected = new List<RejectedPoint>();
        foreach (var p in batch.Points)
        {
            var reason = Check(p);
            if (reason is null) valid.Add(p);
            else rejected.Add(new RejectedPoint(Notes.Name(p?.Name), p?.Step ?? 0, reason)); // the agent knows the rest of the name
        }

        var result = await writer.WriteAsync(batch.RunId, agentId, valid, cancellationToken); // also checks the run when no point is valid
        if (result.Error is not null)
        {
            logger.LogWarning("Metric batch {Sequence} of run {Run} from agent {Agent} refused: {Error}", batch.BatchSequence, batch.RunId, agentId, result.Error);
            if (result.Frozen) await refusals.RecordAsync(batch.RunId, "metrics", result.Error);
            return Refuse(batch, result.Error, result.Retryable);
        }
        if (result.Rejected is { Count: > 0 } overCap) rejected.AddRange(overCap);
        if (rejected.Count > 0)
        {
            // Names in rejected points are already cut short, and the note lists only a few of them.
            var sample = Notes.List(rejected.Select(r => $"{r.Name}@{r.Step}: {r.Reason}").ToList());
            await dispatch.PortalLogAsync(batch.RunId, $"{rejected.Count} metric point(s) of batch {batch.BatchSequence} refused ({sample}).");
            await refusals.RecordAsync(batch.RunId, "metrics", $"Points refused: {rejected[0].Reason}");
        }
        return new MetricBatchAck(batch.RunId, batch.BatchSequence, result.Stored, rejected, null);
    }

    private string? Check(MetricPointDto? p)
    {
        if (p is null) return "The point is empty.";
        if (string.IsNullOrWhiteSpace(p.Name)) return "The metric name is empty.";
        if (p.Name.Length > MaxNameLength) return $"The metric name is longer than {MaxNameLength} characters.";
        if (p.Step < 0) return $"Step {p.Step} is negative.";
        if (p.Step > options.Value.MaxStep) return $"Step {p.Step} is beyond {options.Value.MaxStep}: not a plausible training step.";
        return null;
    }

    private static MetricBatchAck Refuse(MetricBatch batch, string error, bool retryable = false)
        => new(batch.RunId, batch.BatchSequence, 0, [], error, retryable);
}
