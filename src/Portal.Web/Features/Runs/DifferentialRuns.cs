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
public sealed class DifferentialRuns(IDbContextFactory<PortalDbContext> dbFactory, IOptions<PortalOptions> portal)
{
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
