using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Training.Differential;
using Portal.Web.Data;
using Portal.Web.Features.Demo;

namespace Portal.Web.Features.Runs;

/// <summary>
/// Two differential runs on the YOLOv4-tiny demo project: one that caught a planted cross-framework fault (batch-norm
/// epsilon 1e-3, TensorFlow's default, where the reference uses 1e-5) and one after the fix that passes. Their reports
/// were measured with the real comparison (`compare --recipe yolov4-tiny --reference DIR --json`, with and without
/// `--plant bn-eps`, reference at input 64, seed 7) and are stored, labelled as demo data.
/// </summary>
internal sealed class DemoDifferentialRuns(IOptions<PortalOptions> portal, TimeProvider clock) : IDemoContributor
{
    public int Order => 40;

    public async Task ContributeAsync(PortalDbContext db, DemoTeam team, CancellationToken cancellationToken)
    {
        var project = await db.Projects.FirstOrDefaultAsync(p => p.Name == "YOLOv4-tiny", cancellationToken);
        if (project is null) return;
        var now = clock.GetUtcNow();
        await AddAsync(db, project.Id, team["member7"].Id, "b41f0e3", "differential-bn-eps.json", """{"inputSize": 64, "plant": "bn-eps", "demo": "stored report"}""", now.AddDays(-12), cancellationToken);
        await AddAsync(db, project.Id, team["member7"].Id, "c7e5a9d2", "differential-fixed.json", """{"inputSize": 64, "demo": "stored report"}""", now.AddDays(-10), cancellationToken);
    }

    private async Task AddAsync(PortalDbContext db, long projectId, string userId, string commit, string resource, string config, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var stream = typeof(DemoDifferentialRuns).Assembly.GetManifestResourceStream("Portal.Web.DemoData." + resource)
                                 ?? throw new InvalidOperationException($"The demo report {resource} is not embedded.");
        using var reader = new StreamReader(stream);
        var json = await reader.ReadToEndAsync(cancellationToken);
        var report = ReportFormat.FromJson(json);
        var run = new Run
        {
            ProjectId = projectId, Recipe = DifferentialJob.JobType, ConfigJson = config, Seed = report.Seed, Commit = commit,
            Dataset = "reference inputs", Split = "fixed", Status = RunStatus.Succeeded, StartedById = userId,
            QueuedAt = at, StartedAt = at, EndedAt = at.AddMinutes(2),
            FinalMetrics = DifferentialJob.Metrics(report).Select(m => new RunFinalMetric { Name = m.Key, Value = m.Value }).ToList(),
        };
        db.Runs.Add(run);
        await db.SaveChangesAsync(cancellationToken);
        var relative = Path.Combine("artifacts", run.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), "differential-demo.json");
        var full = Path.Combine(portal.Value.ResolveDataDirectory(), relative);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        await File.WriteAllTextAsync(full, json, cancellationToken);
        db.RunArtifacts.Add(new RunArtifact
        {
            RunId = run.Id, Kind = ArtifactKinds.Differential, FileName = "differential.json (demo data)", StoragePath = relative,
            SizeBytes = new FileInfo(full).Length, Sha256 = Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(json))), CreatedAt = at,
        });
        db.RunLogLines.Add(new RunLogLine { RunId = run.Id, At = at, Text = "[demo] Stored report of a differential comparison measured with the compare command (demo data)." });
        await db.SaveChangesAsync(cancellationToken);
    }
}
