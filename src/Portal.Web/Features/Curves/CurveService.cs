using Microsoft.EntityFrameworkCore;
using Portal.Web.Data;
using Portal.Web.Infrastructure;
using Portal.Web.Features.Runs;

namespace Portal.Web.Features.Curves;

public sealed record CurveRun(long Id, long ProjectId, string Label, RunStatus Status, string Dataset, string Split);

public sealed record MetricChart(string Name, IReadOnlyList<ClaimBand> Claims);

/// <summary>What a set of charts shows: the runs, one chart per metric any of them logged, and the claim bands.</summary>
public sealed record ChartSet(long ProjectId, string ProjectName, double Tolerance, IReadOnlyList<CurveRun> Runs, IReadOnlyList<MetricChart> Metrics);

/// <summary>Reading charts: which runs and metrics, the claim bands, and the points to draw.</summary>
public sealed class CurveService(IDbContextFactory<PortalDbContext> dbFactory, CurveRollups rollups)
{
    public const int MaxRunsPerChart = 12;

    public async Task<IReadOnlyList<CurveRun>> ListProjectRunsAsync(long projectId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, cancellationToken))
            throw PortalError.NotFound($"There is no project {projectId}.");
        var runs = await db.Runs.AsNoTracking().Where(r => r.ProjectId == projectId).OrderByDescending(r => r.Id).Take(200).ToListAsync(cancellationToken);
        return runs.Select(ToCurveRun).ToList();
    }

    public async Task<ChartSet> GetChartSetAsync(long? projectId, IReadOnlyList<long> runIds, CancellationToken cancellationToken = default)
    {
        if (runIds.Count > MaxRunsPerChart) throw PortalError.Validation($"Compare at most {MaxRunsPerChart} runs at once.");
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var runs = await LoadRunsAsync(db, runIds, cancellationToken);
        var pid = projectId ?? runs.FirstOrDefault()?.ProjectId ?? throw PortalError.Validation("Pick at least one run.");
        var foreign = runs.FirstOrDefault(r => r.ProjectId != pid);
        if (foreign is not null) throw PortalError.Validation($"Run {foreign.Id} belongs to another project.");
        var project = await db.Projects.AsNoTracking().Include(p => p.Claims).FirstOrDefaultAsync(p => p.Id == pid, cancellationToken)
                      ?? throw PortalError.NotFound($"There is no project {pid}.");

        var names = new SortedSet<string>(StringComparer.Ordinal);
        await using (var connection = await rollups.OpenAsync(cancellationToken))
            foreach (var run in runs) names.UnionWith(await CurveRollups.ListMetricsAsync(connection, run.Id, cancellationToken));
        // Charts with a paper claim come first: they are what a reproduction is judged on.
        var charts = names.Select(n => new MetricChart(n, ClaimBands.For(n, project.Claims, project.Tolerance)))
            .OrderBy(c => c.Claims.Count == 0).ThenBy(c => c.Name, StringComparer.Ordinal).ToList();
        return new ChartSet(project.Id, project.Name, project.Tolerance, runs.Select(ToCurveRun).ToList(), charts);
    }

    /// <summary>The claim bands for a metric that appears while a chart set is open.</summary>
    public async Task<MetricChart> GetMetricChartAsync(long projectId, string metric, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var project = await db.Projects.AsNoTracking().Include(p => p.Claims).FirstOrDefaultAsync(p => p.Id == projectId, cancellationToken)
                      ?? throw PortalError.NotFound($"There is no project {projectId}.");
        return new MetricChart(metric, ClaimBands.For(metric, project.Claims, project.Tolerance));
    }

    /// <summary>The settings of the runs side by side, in the order given (<see cref="RunConfigDiff"/>).</summary>
    public async Task<IReadOnlyList<ConfigDiffRow>> CompareConfigsAsync(IReadOnlyList<long> runIds, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return RunConfigDiff.Compare(await LoadRunsAsync(db, runIds, cancellationToken));
    }

    public async Task RequireRunAsync(long runId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (!await db.Runs.AnyAsync(r => r.Id == runId, cancellationToken)) throw PortalError.NotFound($"There is no run {runId}.");
    }

    /// <summary>The points to draw for each run's <paramref name="metric"/> in [from, to] (whole series when null).</summary>
    public async Task<IReadOnlyList<SeriesData>> GetSeriesAsync(IReadOnlyList<long> runIds, string metric, long? fromStep, long? toStep,
        int maxPoints = CurveLevels.DefaultMaxPoints, CancellationToken cancellationToken = default)
    {
        if (runIds.Count == 0) throw PortalError.Validation("Name at least one run.");
        if (runIds.Count > MaxRunsPerChart) throw PortalError.Validation($"Compare at most {MaxRunsPerChart} runs at once.");
        if (string.IsNullOrWhiteSpace(metric)) throw PortalError.Validation("Name a metric.");
        if (maxPoints is < 100 or > 20_000) throw PortalError.Validation("Ask for between 100 and 20000 points per series.");
        if (fromStep > toStep) throw PortalError.Validation($"The step range {fromStep}-{toStep} is reversed.");
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
            await LoadRunsAsync(db, runIds, cancellationToken);
        await using var connection = await rollups.OpenAsync(cancellationToken);
        var result = new List<SeriesData>(runIds.Count);
        foreach (var runId in runIds)
            result.Add(await SeriesReader.ReadAsync(rollups, connection, runId, metric, fromStep, toStep, maxPoints, cancellationToken));
        return result;
    }

    private static async Task<List<Run>> LoadRunsAsync(PortalDbContext db, IReadOnlyList<long> runIds, CancellationToken cancellationToken)
    {
        var runs = await db.Runs.AsNoTracking().Where(r => runIds.Contains(r.Id)).ToListAsync(cancellationToken);
        var missing = runIds.Where(id => runs.All(r => r.Id != id)).ToList();
        if (missing.Count > 0) throw PortalError.NotFound($"There is no run {string.Join(", ", missing)}.");
        return runIds.Distinct().Select(id => runs.First(r => r.Id == id)).ToList();
    }

    private static CurveRun ToCurveRun(Run r) =>
        new(r.Id, r.ProjectId, $"#{r.Id} {r.Recipe}{(r.Commit is { Length: > 0 } c ? " @" + c[..Math.Min(7, c.Length)] : "")}", r.Status, r.Dataset, r.Split);
}
