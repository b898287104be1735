using Microsoft.EntityFrameworkCore;
using Portal.Web.Data;
using Portal.Web.Features.Runs;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Defects;

/// <summary>What a report from a run starts with; the user confirms or changes it.</summary>
public sealed record RunSuggestion(long RunId, long ProjectId, string Title, DefectImpact? Impact, DefectStage? Stage, string Why);

public static class DefectSuggestions
{
    /// <summary>A NaN loss suggests numerical instability in training; a failed run, a crash in training.</summary>
    public static (DefectImpact? Impact, DefectStage? Stage, string Why) FromRun(RunStatus status, bool nanLoss) =>
        nanLoss ? (DefectImpact.NumericalInstability, DefectStage.Training, "The run's loss became NaN.")
        : status == RunStatus.Failed ? (DefectImpact.Crash, DefectStage.Training, "The run failed.")
        : (null, null, "");

    public static async Task<RunSuggestion> ForRunAsync(IDbContextFactory<PortalDbContext> dbFactory, long runId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var run = await db.Runs.AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId, ct)
                  ?? throw PortalError.NotFound($"There is no run {runId}.");
        // The last points of the loss series tell whether it diverged.
        var lastLoss = await db.MetricPoints.AsNoTracking().Where(p => p.RunId == runId && p.Name.Contains("loss"))
            .OrderByDescending(p => p.Step).Take(50).Select(p => p.Value).ToListAsync(ct);
        var (impact, stage, why) = FromRun(run.Status, lastLoss.Any(double.IsNaN));
        var title = why.Length == 0 ? $"Defect seen in run #{run.Id}" : $"Run #{run.Id}: {why.TrimEnd('.').ToLowerInvariant()}";
        return new RunSuggestion(run.Id, run.ProjectId, title, impact, stage, why);
    }
}
