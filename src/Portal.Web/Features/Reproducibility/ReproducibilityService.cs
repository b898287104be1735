using Microsoft.EntityFrameworkCore;
using Portal.Web.Data;
using Portal.Web.Features.Projects;
using Portal.Web.Features.Releases;
using Portal.Web.Features.Runs;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Reproducibility;

/// <summary>One split's runs of a claimed metric: how many, the best and the mean.</summary>
public sealed record SplitSummary(string Split, int Runs, double Best, double Mean);

/// <summary>The metric at one commit: the mean of the runs built from it, in the order the commits were first run.</summary>
public sealed record CommitPoint(string Commit, DateTimeOffset At, int Runs, double Mean);

/// <summary>
/// How far the team is from one paper claim. Only runs on the claim's own dataset and split count; runs on
/// another split are listed apart, because their numbers are not comparable with the paper's.
/// </summary>
public sealed record ClaimStanding(PaperClaim Claim, double Tolerance, SplitSummary? Counted, IReadOnlyList<SplitSummary> OtherSplits,
    string PlottedSplit, IReadOnlyList<CommitPoint> ByCommit)
{
    public double? Gap => Counted is null ? null : Counted.Mean - Claim.Value;
    public bool Within => Gap is { } g && Math.Abs(g) <= Tolerance + 1e-9;
}

/// <summary>A defect tied to a commit: the commit that fixed it, or else the commit of the run that showed it.</summary>
public sealed record CommitDefect(long DefectId, string Title, string Commit, bool FixedHere);

public sealed record ProjectReproducibility(long ProjectId, string ProjectName, bool IsDemo, double Tolerance, IReadOnlyList<ClaimStanding> Claims,
    IReadOnlyList<CommitDefect> Defects);

/// <summary>The reproducibility dashboard: every claim against the project's succeeded runs, and the project's tolerance.</summary>
public sealed class ReproducibilityService(IDbContextFactory<PortalDbContext> dbFactory)
{
    public async Task<IReadOnlyList<ProjectReproducibility>> ListAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var ids = await db.Projects.OrderBy(p => p.Name).Select(p => p.Id).ToListAsync(ct);
        var list = new List<ProjectReproducibility>();
        foreach (var id in ids) list.Add(await LoadAsync(db, id, ct));
        return list;
    }

    public async Task<ProjectReproducibility> GetAsync(long projectId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await LoadAsync(db, projectId, ct);
    }

    private static async Task<ProjectReproducibility> LoadAsync(PortalDbContext db, long projectId, CancellationToken ct)
    {
        var project = await db.Projects.AsNoTracking().Include(p => p.Claims).FirstOrDefaultAsync(p => p.Id == projectId, ct)
                      ?? throw PortalError.NotFound($"There is no project {projectId}.");
        var runs = await db.Runs.AsNoTracking().Include(r => r.FinalMetrics)
            .Where(r => r.ProjectId == projectId && r.Status == RunStatus.Succeeded).ToListAsync(ct);
        var defects = await (from d in db.Defects.AsNoTracking()
                             where d.ProjectId == projectId && (d.FixCommit != null || d.RunId != null)
                             join r in db.Runs on d.RunId equals r.Id into shown
                             from r in shown.DefaultIfEmpty()
                             select new { d.Id, d.Title, d.FixCommit, RunCommit = r == null ? null : r.Commit }).ToListAsync(ct);
        var markers = defects
            .Select(d => !string.IsNullOrWhiteSpace(d.FixCommit) ? new CommitDefect(d.Id, d.Title, d.FixCommit.Trim(), true)
                : !string.IsNullOrWhiteSpace(d.RunCommit) ? new CommitDefect(d.Id, d.Title, d.RunCommit.Trim(), false) : null)
            .OfType<CommitDefect>().OrderBy(d => d.DefectId).ToList();
        return new ProjectReproducibility(project.Id, project.Name, project.IsDemo, project.Tolerance,
            project.Claims.OrderBy(c => c.Id).Select(c => Standing(c, project.Tolerance, runs)).ToList(), markers);
    }

    /// <summary>
    /// The defects to mark on one chart, by the index of the commit point they belong to. Commits match when one is a
    /// prefix of the other (points carry 8 characters; a defect may name the full hash or a shorter one).
    /// </summary>
    public static IReadOnlyList<(int Index, CommitDefect Defect)> MarkersOn(IReadOnlyList<CommitPoint> points, IReadOnlyList<CommitDefect> defects) =>
        defects.Select(d => (Index: IndexOf(points, d.Commit), Defect: d)).Where(x => x.Index >= 0).ToList();

    private static int IndexOf(IReadOnlyList<CommitPoint> points, string commit)
    {
        for (var i = 0; i < points.Count; i++)
        {
            var p = points[i].Commit;
            if (p.StartsWith('(') || Math.Min(p.Length, commit.Length) < 4) continue;
            if (p.StartsWith(commit, StringComparison.OrdinalIgnoreCase) || commit.StartsWith(p, StringComparison.OrdinalIgnoreCase)) return i;
        }
        return -1;
    }

    public static ClaimStanding Standing(PaperClaim claim, double tolerance, IReadOnlyList<Run> runs)
    {
        var values = runs.Where(r => Same(r.Dataset, claim.Dataset))
            .Select(r => (Run: r, Metric: r.FinalMetrics.FirstOrDefault(m => Same(m.Name, claim.Metric))))
            .Where(x => x.Metric is not null)
            .Select(x => (x.Run, Value: x.Metric!.Value))
            .ToList();
        var bySplit = values.GroupBy(v => v.Run.Split.Trim(), StringComparer.OrdinalIgnoreCase)
            .Select(g => new SplitSummary(g.Key, g.Count(), g.Max(v => v.Value), g.Average(v => v.Value)))
            .ToList();
        var counted = bySplit.FirstOrDefault(s => Same(s.Split, claim.Split));
        var others = bySplit.Where(s => s != counted).OrderByDescending(s => s.Runs).ToList();
        // Plot the claim's split; when nothing ran on it yet, the busiest other split, labelled as such.
        var plotted = counted?.Split ?? others.FirstOrDefault()?.Split ?? claim.Split;
        var byCommit = values.Where(v => Same(v.Run.Split, plotted))
            .GroupBy(v => string.IsNullOrWhiteSpace(v.Run.Commit) ? "(no commit)" : v.Run.Commit!.Trim())
            .Select(g => new CommitPoint(Short(g.Key), g.Min(v => v.Run.EndedAt ?? v.Run.StartedAt ?? v.Run.QueuedAt), g.Count(), g.Average(v => v.Value)))
            .OrderBy(p => p.At).ToList();
        return new ClaimStanding(claim, tolerance, counted, others, plotted, byCommit);
    }

    private static string Short(string commit) => commit.Length > 8 && !commit.StartsWith('(') ? commit[..8] : commit;

    private static bool Same(string a, string b) => string.Equals(a.Trim(), b.Trim(), StringComparison.OrdinalIgnoreCase);
}
