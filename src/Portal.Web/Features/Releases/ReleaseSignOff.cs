using Microsoft.EntityFrameworkCore;
using Portal.Web.Data;
using Portal.Web.Features.Inbox;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Releases;

/// <summary>The leads' approvals and rejections. Each decision is bound to the fingerprint of the evidence it saw.</summary>
public sealed class ReleaseSignOff(IDbContextFactory<PortalDbContext> dbFactory, LiveUpdates live, InboxNotifier inbox, TimeProvider clock)
{
    public Task ApproveAsync(Actor actor, long releaseId, CancellationToken ct = default) =>
        DecideAsync(actor, releaseId, ReleaseDecision.Approve, null, ct);

    public Task RejectAsync(Actor actor, long releaseId, string reason, CancellationToken ct = default)
    {
        if (string.IsNullOrWhiteSpace(reason)) throw PortalError.Validation("Say why the release is rejected.");
        if (reason.Length > 2000) throw PortalError.Validation("A reason is at most 2,000 characters.");
        return DecideAsync(actor, releaseId, ReleaseDecision.Reject, reason.Trim(), ct);
    }

    private async Task DecideAsync(Actor actor, long releaseId, ReleaseDecision decision, string? reason, CancellationToken ct)
    {
        actor = await dbFactory.RefreshAsync(actor, ct);
        var verb = decision == ReleaseDecision.Approve ? "approve" : "reject";
        actor.RequireLead($"{verb} a release");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var e = await ReleaseEvidenceLoader.LoadAsync(db, releaseId, ct);
        var release = e.Release;
        ReleaseService.RequireDraft(release);
        var now = clock.GetUtcNow();
        var fingerprint = ReleaseGates.Fingerprint(e);

        if (decision == ReleaseDecision.Approve)
        {
            var failing = ReleaseGates.Evidence(e).Where(g => !g.Passed).ToList();
            if (failing.Count > 0)
                throw PortalError.Validation($"The release cannot be approved while gates fail: {string.Join("; ", failing.Select(g => $"{g.Title}: {g.Summary}"))}");
        }
        var mine = release.Approvals.Where(a => a.LeadId == actor.UserId && a.IsStanding && a.EvidenceFingerprint == fingerprint).ToList();
        if (mine.Any(a => a.Decision == decision))
            throw PortalError.Conflict(decision == ReleaseDecision.Approve
                ? "You have already approved this release on this evidence."
                : "You have already rejected this release on this evidence.");

        ReleaseEvidenceLoader.ClearStaleDecisions(db, e, fingerprint, now);
        // A lead's new decision replaces their previous one.
        foreach (var previous in mine) previous.ClearedAt = now;
        release.Approvals.Add(new ReleaseApproval
        {
            ReleaseId = releaseId, LeadId = actor.UserId, Decision = decision, Reason = reason, EvidenceFingerprint = fingerprint, At = now,
        });
        db.ReleaseAudit.Add(new ReleaseAuditEntry
        {
            ReleaseId = releaseId, UserId = actor.UserId, At = now, EvidenceFingerprint = fingerprint,
            Action = decision == ReleaseDecision.Approve ? ReleaseActions.Approved : ReleaseActions.Rejected,
            Detail = reason ?? $"approved on evidence {ReleaseEvidenceLoader.Short(fingerprint)}",
        });
        inbox.Add(db, release.CreatedById, actor.UserId, NotificationKind.ReleaseDecision,
            $"{actor.DisplayName} {(decision == ReleaseDecision.Approve ? "approved" : "rejected")} {release.Name} {release.Version}{(reason is null ? "" : $": {reason}")}",
            $"/releases/{releaseId}");
        release.RowVersion++;
        await ReleaseService.SaveAsync(db, ct);
        inbox.Announce([release.CreatedById]);
        live.Publish(Topics.Release(releaseId), Topics.Project(release.ProjectId));
    }
}
