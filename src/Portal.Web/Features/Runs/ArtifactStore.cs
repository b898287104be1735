using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Web.Data;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Runs;

/// <summary>
/// Files runs produce, under DATA/artifacts/{run}/ named by their SHA-256. Uploads are streamed to a temporary
/// file while hashing, stopped at the size limit, and recorded only once complete.
/// </summary>
public sealed class ArtifactStore(IDbContextFactory<PortalDbContext> dbFactory, IOptions<PortalOptions> portal, IOptions<RunsOptions> options,
    RunRefusals refusals, LiveUpdates live, TimeProvider clock)
{
    public const int MaxFileNameLength = 200;

    public long MaxBytes => options.Value.MaxArtifactBytes;

    /// <summary>
    /// Stores an upload of a run's agent. Refused (nothing stored) for a run that is not Running (or Lost), over the
    /// size limit of one artifact, or over what the run may keep in all (<see cref="RunsOptions.MaxArtifactBytesPerRun"/>).
    /// </summary>
    public async Task<RunArtifact> SaveAsync(long tokenId, long runId, string kind, string? fileName, string? expectedSha256, long? step,
        long? expectedLength, Stream body, CancellationToken cancellationToken)
    {
        if (!ArtifactKinds.All.Contains(kind)) throw PortalError.Validation($"Unknown artifact kind '{kind}': use {string.Join(" or ", ArtifactKinds.All)}.");
        if (kind == ArtifactKinds.Checkpoint && step is null) throw PortalError.Validation("A checkpoint upload names its step (?step=N).");
        if (step < 0) throw PortalError.Validation("The step is negative.");
        var name = Path.GetFileName(string.IsNullOrWhiteSpace(fileName) ? kind : fileName.Trim());
        if (name.Length is 0 or > MaxFileNameLength || name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0)
            throw PortalError.Validation("The file name is not usable.");

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var run = await RequireRunOfTokenAsync(db, tokenId, runId, cancellationToken);
        if (RunDispatch.FrozenReason(run, "artifacts") is { } frozen)
        {
            await refusals.RecordAsync(runId, kind, frozen);
            throw PortalError.Conflict(frozen);
        }
        var runCap = options.Value.MaxArtifactBytesPerRun;
        var runBytes = await db.RunArtifacts.Where(a => a.RunId == runId).SumAsync(a => (long?)a.SizeBytes, cancellationToken) ?? 0;
        var limit = Math.Min(MaxBytes, runCap - runBytes);
        string TooLarge(long size) => size > MaxBytes
            ? $"The artifact is larger than the limit of {MaxBytes} bytes."
            : $"The run's artifacts would take {runBytes + size} bytes; a run may keep at most {runCap} bytes of artifacts.";
        if (expectedLength > limit) await RefuseTooLargeAsync(runId, kind, TooLarge(expectedLength.Value));

        var folder = Path.Combine(portal.Value.ResolveDataDirectory(), "artifacts", runId.ToString());
        Directory.CreateDirectory(folder);
        var temp = Path.Combine(folder, $"upload-{Guid.NewGuid():N}.tmp");
        string sha;
        long size = 0;
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true))
            {
                var buffer = new byte[81920];
                int read;
                while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    size += read;
                    if (size > limit) await RefuseTooLargeAsync(runId, kind, TooLarge(size));
                    hash.AppendData(buffer, 0, read);
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                }
            }
            sha = Convert.ToHexStringLower(hash.GetHashAndReset());
            if (!string.IsNullOrEmpty(expectedSha256) && !string.Equals(expectedSha256, sha, StringComparison.OrdinalIgnoreCase))
                throw PortalError.Validation($"The upload's SHA-256 is {sha}, not the {expectedSha256} the agent announced: it was damaged on the way.");
            var final = Path.Combine(folder, $"{kind}-{sha}{Path.GetExtension(name)}");
            File.Move(temp, final, overwrite: true);

            var existing = await db.RunArtifacts.FirstOrDefaultAsync(a => a.RunId == runId && a.Kind == kind && a.Sha256 == sha && a.Step == step, cancellationToken);
            if (existing is not null) return existing; // the same upload again after a lost response
            var artifact = new RunArtifact
            {
                RunId = runId, Kind = kind, FileName = name, SizeBytes = size, Sha256 = sha,
                StoragePath = Path.GetRelativePath(portal.Value.ResolveDataDirectory(), final), Step = step, CreatedAt = clock.GetUtcNow(),
            };
            db.RunArtifacts.Add(artifact);
            await db.SaveChangesAsync(cancellationToken);
            live.Publish(Topics.Run(runId));
            return artifact;
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>The checkpoint a resumed run starts from: the one at its resume step, else the newest.</summary>
    public async Task<(RunArtifact Artifact, string Path)> LatestCheckpointAsync(long tokenId, long runId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var run = await RequireRunOfTokenAsync(db, tokenId, runId, cancellationToken);
        var checkpoints = db.RunArtifacts.Where(a => a.RunId == runId && a.Kind == ArtifactKinds.Checkpoint);
        var artifact = (run.ResumeFromStep is { } step ? await checkpoints.FirstOrDefaultAsync(a => a.Step == step, cancellationToken) : null)
                       ?? await checkpoints.OrderByDescending(a => a.Step).ThenByDescending(a => a.Id).FirstOrDefaultAsync(cancellationToken)
                       ?? throw PortalError.NotFound($"Run {runId} has no checkpoint.");
        return (artifact, FullPath(artifact));
    }

    public async Task<(RunArtifact Artifact, string Path)> GetForDownloadAsync(long runId, long artifactId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var artifact = await db.RunArtifacts.AsNoTracking().FirstOrDefaultAsync(a => a.Id == artifactId && a.RunId == runId, cancellationToken)
                       ?? throw PortalError.NotFound("That artifact does not exist.");
        var path = FullPath(artifact);
        if (!File.Exists(path)) throw PortalError.NotFound("The artifact's file is missing from the data folder.");
        return (artifact, path);
    }

    private async Task RefuseTooLargeAsync(long runId, string kind, string reason)
    {
        await refusals.RecordAsync(runId, kind, reason);
        throw new ArtifactTooLargeException(reason);
    }

    private string FullPath(RunArtifact artifact) => Path.Combine(portal.Value.ResolveDataDirectory(), artifact.StoragePath);

    /// <summary>An agent token may touch a run only while an agent registered with it holds the run.</summary>
    private static async Task<Run> RequireRunOfTokenAsync(PortalDbContext db, long tokenId, long runId, CancellationToken cancellationToken)
    {
        var run = await db.Runs.AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId, cancellationToken)
                  ?? throw PortalError.NotFound($"Run {runId} does not exist.");
        var allowed = run.AgentId is { } agentId && await db.Agents.AnyAsync(a => a.Id == agentId && a.TokenId == tokenId, cancellationToken);
        if (!allowed) throw PortalError.Forbidden($"Run {runId} is not assigned to an agent of this token.");
        return run;
    }
}

public sealed class ArtifactTooLargeException(string message) : Exception(message);
