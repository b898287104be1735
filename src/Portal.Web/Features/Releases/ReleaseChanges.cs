using Microsoft.EntityFrameworkCore;
using Portal.Web.Data;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Releases;

/// <summary>What a change to a release did, for its audit entry; <c>ChangesEvidence</c> when the gates may read differently afterwards.</summary>
public sealed record ReleaseNote(string Action, string Detail, bool ChangesEvidence = false);

/// <summary>The state a change works on: the tracked release with its evidence as it was read in the change's transaction.</summary>
public sealed record ReleaseChange(PortalDbContext Db, ReleaseEvidence Evidence, string Fingerprint, DateTimeOffset Now)
{
    public Release Release => Evidence.Release;
}

/// <summary>
/// Every change to a release runs here, in one transaction: read the evidence, refuse a published release, apply
/// the change, clear the decisions the evidence no longer supports, and write the audit entry stamped with the
/// evidence as it is after the change. Either all of it is stored or none.
/// </summary>
public sealed class ReleaseChanges(IDbContextFactory<PortalDbContext> dbFactory, ReleaseEvidenceReader reader, LiveUpdates live, TimeProvider clock)
{
    /// <summary>The acting user as the database has them now (docs/decisions: changes re-read the actor).</summary>
    public Task<Actor> RefreshAsync(Actor actor, CancellationToken ct) => dbFactory.RefreshAsync(actor, ct);

    /// <summary>Applies a change for <paramref name="actorId"/>, whom the calling service has already re-read and authorized.</summary>
    public async Task ChangeAsync(string actorId, long releaseId, Func<ReleaseChange, Task<ReleaseNote>> change,
        bool draftOnly = true, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var e = await reader.ForReleaseAsync(db, releaseId, tracked: true, ct);
        if (draftOnly && e.Release.Status == ReleaseStatus.Published)
            throw PortalError.Conflict($"{e.Release.Name} {e.Release.Version} is published and frozen; make a new version to change it.");
        var now = clock.GetUtcNow();
        var note = await change(new ReleaseChange(db, e, ReleaseGates.Fingerprint(e), now));
        // Two leads acting at once: the second save finds another row version and is refused.
        e.Release.RowVersion++;
        await FinishAsync(db, e, actorId, note, now, ct);
        await transaction.CommitAsync(ct);
        live.Publish(Topics.Release(releaseId), Topics.Project(e.Release.ProjectId));
    }

    /// <summary>Adds a new release and its first audit entry in one transaction.</summary>
    public async Task<long> CreateAsync(string actorId, Func<PortalDbContext, Task<(Release Release, ReleaseNote Note)>> create, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var (release, note) = await create(db);
        db.Releases.Add(release);
        await db.SaveChangesAsync(ct);
        var e = await reader.ForReleaseAsync(db, release.Id, tracked: true, ct);
        await FinishAsync(db, e, actorId, note with { ChangesEvidence = false }, clock.GetUtcNow(), ct);
        await transaction.CommitAsync(ct);
        live.Publish(Topics.Project(release.ProjectId), Topics.Release(release.Id));
        return release.Id;
    }

    private async Task FinishAsync(PortalDbContext db, ReleaseEvidence e, string actorId, ReleaseNote note, DateTimeOffset now, CancellationToken ct)
    {
        var release = e.Release;
        if (note.ChangesEvidence)
        {
            await SaveAsync(db, ct);
            e = await reader.ForReleaseAsync(db, release.Id, tracked: true, ct);
        }
        var fingerprint = ReleaseGates.Fingerprint(e);
        db.ReleaseAudit.Add(new ReleaseAuditEntry
        {
            ReleaseId = release.Id, UserId = actorId, Action = note.Action, Detail = note.Detail, EvidenceFingerprint = fingerprint, At = now,
        });
        foreach (var stale in ReleaseDecisions.Stale(e, fingerprint))
        {
            stale.ClearedAt = now;
            db.ReleaseAudit.Add(new ReleaseAuditEntry
            {
                ReleaseId = release.Id, UserId = stale.LeadId, Action = ReleaseActions.Cleared, At = now, EvidenceFingerprint = fingerprint,
                Detail = ReleaseDecisions.ClearedDetail(e, stale, fingerprint),
            });
        }
        await SaveAsync(db, ct);
    }

    private static async Task SaveAsync(PortalDbContext db, CancellationToken ct)
    {
        try { await db.SaveChangesAsync(ct); }
        catch (DbUpdateConcurrencyException)
        {
            throw PortalError.Conflict("Someone changed this release at the same time. Reload it and try again.");
        }
    }
}
