using Microsoft.Extensions.Options;
using Portal.Contracts;

namespace Portal.Web.Features.Runs;

/// <summary>
/// Checks an agent's metric batch and hands the valid points to the <see cref="MetricWriter"/>. A bad point is
/// rejected with its reason and the rest are stored; a bad batch (too large, someone else's run) is refused whole.
/// NaN and infinite values are valid: they are what a diverging run produces.
/// </summary>
public sealed class MetricIngestion(MetricWriter writer, RunDispatch dispatch, IOptions<RunsOptions> options, ILogger<MetricIngestion> logger)
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
            else rejected.Add(new RejectedPoint(p?.Name ?? "", p?.Step ?? 0, reason));
        }

        var result = valid.Count == 0 && rejected.Count > 0
            ? await writer.WriteAsync(batch.RunId, agentId, [], cancellationToken) // still checks the run, so the reason is right
            : await writer.WriteAsync(batch.RunId, agentId, valid, cancellationToken);
        if (result.Error is not null)
        {
            logger.LogWarning("Metric batch {Sequence} of run {Run} from agent {Agent} refused: {Error}", batch.BatchSequence, batch.RunId, agentId, result.Error);
            return Refuse(batch, result.Error);
        }
        if (rejected.Count > 0)
        {
            var sample = string.Join("; ", rejected.Take(3).Select(r => $"{r.Name}@{r.Step}: {r.Reason}"));
            await dispatch.PortalLogAsync(batch.RunId, $"{rejected.Count} metric point(s) of batch {batch.BatchSequence} refused ({sample}).");
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

    private static MetricBatchAck Refuse(MetricBatch batch, string error)
        => new(batch.RunId, batch.BatchSequence, 0, [], error);
}
