using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Web.Data;
using Portal.Web.Features.Runs;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Releases;

/// <summary>
/// Publishing: only when every gate passes, the release is frozen and a bundle is written to the data folder
/// (model card, config, metrics, checkpoint, approvals).
/// </summary>
public sealed class ReleasePublisher(IDbContextFactory<PortalDbContext> dbFactory, ReleaseChanges changes, IOptions<PortalOptions> options)
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    private string DataDirectory => options.Value.ResolveDataDirectory();

    public async Task PublishAsync(Actor actor, long releaseId, CancellationToken ct = default)
    {
        actor = await dbFactory.RefreshAsync(actor, ct);
        actor.RequireLead("publish a release");
        string? temporary = null, bundlePath = null;
        try
        {
            await changes.ChangeAsync(actor.UserId, releaseId, async c =>
            {
                (temporary, bundlePath, var note) = await WriteBundleAsync(c, actor, ct);
                return note;
            }, ct: ct);
        }
        catch
        {
            if (temporary is not null) File.Delete(temporary);
            throw;
        }
        File.Move(temporary!, bundlePath!, overwrite: true);
    }

    /// <summary>Writes the bundle under a temporary name and freezes the tracked release; the caller saves, then moves the file in place.</summary>
    private async Task<(string Temporary, string BundlePath, ReleaseNote Note)> WriteBundleAsync(ReleaseChange change, Actor actor, CancellationToken ct)
    {
        var (e, release, fingerprint, db) = (change.Evidence, change.Release, change.Fingerprint, change.Db);
        var failing = ReleaseGates.All(e, fingerprint).Where(g => !g.Passed).ToList();
        if (failing.Count > 0)
            throw PortalError.Validation($"The release cannot be published while gates fail: {string.Join("; ", failing.Select(g => $"{g.Title}: {g.Summary}"))}");

        var claims = ReleaseGates.Claims(e);
        var qualifying = ReleaseGates.QualifyingRuns(e, claims);
        var qualifyingIds = qualifying.Select(r => r.Id).ToList();
        var artifacts = await db.RunArtifacts.AsNoTracking().Where(a => qualifyingIds.Contains(a.RunId)).ToListAsync(ct);
        var best = BestRun(claims, qualifying, artifacts)
                   ?? throw PortalError.Validation("None of the qualifying runs stored a checkpoint; the bundle needs one.");
        var checkpoint = artifacts.Where(a => a.RunId == best.Id && a.Kind == "checkpoint").OrderByDescending(a => a.Step ?? -1).ThenByDescending(a => a.Id).First();
        var checkpointPath = ArtifactPath(checkpoint);
        if (!File.Exists(checkpointPath))
            throw PortalError.Validation($"The checkpoint file of run #{best.Id} ({checkpoint.FileName}) is missing from the data folder.");
        var config = artifacts.Where(a => a.RunId == best.Id && a.Kind == "config").OrderByDescending(a => a.Id).FirstOrDefault();

        var relative = Path.Combine("releases", release.Id.ToString(), $"{Slug(release.Name)}-{Slug(release.Version)}.zip");
        var bundlePath = Path.Combine(DataDirectory, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(bundlePath)!);
        // Its own temporary name: a second lead publishing at the same moment loses on the row version, not on the file.
        var temporary = $"{bundlePath}.{Guid.NewGuid():N}.partial";
        var names = e.UserNames;
        await using (var file = File.Create(temporary))
        using (var zip = new ZipArchive(file, ZipArchiveMode.Create))
        {
            await WriteTextAsync(zip, "MODEL_CARD.md", release.ModelCardMarkdown, ct);
            if (config is not null && File.Exists(ArtifactPath(config)))
                await zip.CreateEntryFromFileAsync(ArtifactPath(config), "config/" + SafeName(config.FileName), CompressionLevel.Optimal, ct);
            else
                await WriteTextAsync(zip, "config/config.json", best.ConfigJson, ct);
            await WriteTextAsync(zip, "metrics.json", JsonSerializer.Serialize(new
            {
                release = new { release.Name, release.Version, release.Variant, release.Commit },
                tolerance = e.Tolerance,
                evidenceFingerprint = fingerprint,
                claims = claims.Select(c => new
                {
                    metric = c.Claim.Metric, dataset = c.Claim.Dataset, split = c.Claim.Split, paper = c.Claim.Value,
                    mean = c.Mean, std = c.StdDev, best = c.Best, gap = c.Gap,
                    runs = c.Counted.Select(v => new { run = v.RunId, seed = v.Seed, commit = v.Commit, value = v.Value }),
                }),
                checkpointRun = best.Id,
            }, Json), ct);
            // Where each run trained: the numbers above are only comparable knowing that.
            foreach (var run in qualifying)
                if (RunEnvironments.Parse(run.EnvironmentJson) is { } environment)
                    await WriteTextAsync(zip, $"runs/{run.Id}/environment.json", JsonSerializer.Serialize(environment, Json), ct);
            await zip.CreateEntryFromFileAsync(checkpointPath, "checkpoint/" + SafeName(checkpoint.FileName), CompressionLevel.NoCompression, ct);
            await WriteTextAsync(zip, "approvals.json", JsonSerializer.Serialize(
                release.Approvals.Where(a => a.IsStanding && a.EvidenceFingerprint == fingerprint && a.Decision == ReleaseDecision.Approve)
                    .OrderBy(a => a.At)
                    .Select(a => new { lead = names.GetValueOrDefault(a.LeadId, a.LeadId), at = a.At, evidenceFingerprint = a.EvidenceFingerprint }),
                Json), ct);
        }

        release.Status = ReleaseStatus.Published;
        release.PublishedAt = change.Now;
        release.PublishedById = actor.UserId;
        release.PublishedFingerprint = fingerprint;
        release.BundlePath = relative;
        await using (var read = File.OpenRead(temporary))
            release.BundleSha256 = Convert.ToHexStringLower(await SHA256.HashDataAsync(read, ct));
        return (temporary, bundlePath, new ReleaseNote(ReleaseActions.Published,
            $"bundle {Path.GetFileName(bundlePath)} (sha256 {release.BundleSha256[..12]}), checkpoint of run #{best.Id}"));
    }

    /// <summary>The published bundle's file and download name; a draft has none.</summary>
    public async Task<(string Path, string FileName)> GetBundleAsync(long releaseId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var release = await db.Releases.AsNoTracking().FirstOrDefaultAsync(r => r.Id == releaseId, ct)
                      ?? throw PortalError.NotFound($"There is no release {releaseId}.");
        if (release.Status != ReleaseStatus.Published || release.BundlePath is null)
            throw PortalError.NotFound($"{release.Name} {release.Version} is not published; it has no bundle yet.");
        var path = Path.Combine(DataDirectory, release.BundlePath);
        if (!File.Exists(path)) throw PortalError.NotFound("The bundle file is missing from the data folder.");
        return (path, Path.GetFileName(path));
    }

    /// <summary>The qualifying run with a checkpoint whose value of the first claimed metric is highest.</summary>
    private static Run? BestRun(IReadOnlyList<ClaimResult> claims, IReadOnlyList<Run> qualifying, IReadOnlyList<RunArtifact> artifacts)
    {
        var withCheckpoint = artifacts.Where(a => a.Kind == "checkpoint").Select(a => a.RunId).ToHashSet();
        var primary = claims.FirstOrDefault(c => c.Counted.Count > 0);
        return qualifying.Where(r => withCheckpoint.Contains(r.Id))
            .OrderByDescending(r => primary?.Counted.FirstOrDefault(v => v.RunId == r.Id)?.Value ?? double.MinValue)
            .ThenBy(r => r.Id).FirstOrDefault();
    }

    private string ArtifactPath(RunArtifact artifact)
    {
        var root = Path.GetFullPath(DataDirectory);
        var path = Path.GetFullPath(Path.Combine(root, artifact.StoragePath));
        // Artifacts live under the data folder; anything else is not ours to ship.
        if (!path.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw PortalError.Validation($"Artifact #{artifact.Id} is stored outside the data folder.");
        return path;
    }

    private static async Task WriteTextAsync(ZipArchive zip, string name, string text, CancellationToken ct)
    {
        var entry = zip.CreateEntry(name, CompressionLevel.Optimal);
        await using var stream = await entry.OpenAsync(ct);
        await using var writer = new StreamWriter(stream);
        await writer.WriteAsync(text.AsMemory(), ct);
    }

    private static string SafeName(string name) => string.Concat(Path.GetFileName(name).Select(c => char.IsLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_'));

    private static string Slug(string text) => string.Concat(text.Trim().Select(c => char.IsLetterOrDigit(c) || c is '.' or '-' ? c : '-')).Trim('-');
}
