using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Training.Differential;
using Portal.Web.Data;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Runs;

/// <summary>A differential run as its page shows it: the run, and the per-layer report its agent uploaded (or why there is none).</summary>
public sealed record DifferentialRunView(Run Run, string ProjectName, DifferentialReport? Report, string? Problem);

/// <summary>Reads a differential run's report, the JSON artifact of kind "differential" its agent uploaded before finishing.</summary>
/// <summary>Whether a differential run passed, read from the final metrics its agent reported; one rule for pages and gates.</summary>
public static class DifferentialOutcome
{
    public static bool Passed(Run run) =>
        run.Status == RunStatus.Succeeded && Metric(run, "passed") == 1 && Metric(run, "outOfTolerance") == 0 && Metric(run, "tensors") > 0;

    public static string Describe(Run run) => run.Status != RunStatus.Succeeded
        ? $"{run.Status}{(run.FailureReason is { } f ? $" ({f})" : "")}."
        : Passed(run)
            ? $"all {Metric(run, "tensors")} tensors within tolerance."
            : $"{Metric(run, "outOfTolerance")} of {Metric(run, "tensors")} tensors out of tolerance.";

    private static double? Metric(Run run, string name) => run.FinalMetrics.FirstOrDefault(m => m.Name == name)?.Value;
}

/// <summary>One line of the list of a project's differential runs: where it stands, in words.</summary>
public sealed record DifferentialRunLine(long RunId, string? Commit, bool Passed, string Outcome);

public sealed class DifferentialRuns(IDbContextFactory<PortalDbContext> dbFactory, IOptions<PortalOptions> portal)
{
    /// <summary>The project's latest differential runs, newest first, for the links on its pages.</summary>
    public async Task<IReadOnlyList<DifferentialRunLine>> LatestAsync(long projectId, int count = 5)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        var runs = await db.Runs.AsNoTracking().Include(r => r.FinalMetrics)
            .Where(r => r.ProjectId == projectId && r.Recipe == DifferentialJob.JobType)
            .OrderByDescending(r => r.Id).Take(count).ToListAsync();
        return runs.Select(r => new DifferentialRunLine(r.Id, r.Commit, DifferentialOutcome.Passed(r), DifferentialOutcome.Describe(r))).ToList();
    }

    public async Task<DifferentialRunView> GetAsync(long runId)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        var run = await db.Runs.AsNoTracking().Include(r => r.FinalMetrics).FirstOrDefaultAsync(r => r.Id == runId)
                  ?? throw PortalError.NotFound($"Run {runId} does not exist.");
        if (run.Recipe != DifferentialJob.JobType) throw PortalError.NotFound($"Run {runId} is a {run.Recipe} run, not a differential run.");
        var project = await db.Projects.Where(p => p.Id == run.ProjectId).Select(p => p.Name).FirstAsync();
        var artifact = await db.RunArtifacts.AsNoTracking().Where(a => a.RunId == runId && a.Kind == ArtifactKinds.Differential)
            .OrderByDescending(a => a.Id).FirstOrDefaultAsync();
        if (artifact is null)
            return new DifferentialRunView(run, project, null, run.IsFinished
                ? $"The run ended {run.Status} without a report{(run.FailureReason is { } f ? $": {f}" : ".")}"
                : "The comparison has not reported yet.");
        var path = Path.Combine(portal.Value.ResolveDataDirectory(), artifact.StoragePath);
        try
        {
            return new DifferentialRunView(run, project, ReportFormat.FromJson(await File.ReadAllTextAsync(path)), null);
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            return new DifferentialRunView(run, project, null, $"The report of this run cannot be read: {e.Message}");
        }
    }
}
