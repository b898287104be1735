using Portal.Web.Features.Inbox;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Releases;

/// <summary>The leads' approvals and rejections. Each decision is bound to the fingerprint of the evidence it saw.</summary>
public sealed class ReleaseSignOff(ReleaseChanges changes, InboxNotifier inbox)
{
    public Task ApproveAsync(Actor actor, long releaseId, CancellationToken ct = default) =>
        DecideAsync(actor, releaseId, ReleaseDecision.Approve, null, ct);

    public async Task RejectAsync(Actor actor, long releaseId, string reason, CancellationToken ct = default)
    {
        actor = await changes.RefreshAsync(actor, ct);
        actor.RequireLead("reject a release");
        if (string.IsNullOrWhiteSpace(reason)) throw PortalError.Validation("Say why the release is rejected.");
        if (reason.Length > 2000) throw PortalError.Validation("A reason is at most 2,000 characters.");
        await DecideAsync(actor, releaseId, ReleaseDecision.Reject, reason.Trim(), ct);
    }

    private async Task DecideAsync(Actor actor, long releaseId, ReleaseDecision decision, string? reason, CancellationToken ct)
    {
        actor = await changes.RefreshAsync(actor, ct);
        actor.RequireLead($"{(decision == ReleaseDecision.Approve ? "approve" : "reject")} a release");
        string? notified = null;
        await changes.ChangeAsync(actor.UserId, releaseId, c =>
        {
            var release = c.Release;
            if (decision == ReleaseDecision.Approve)
            {
                var failing = ReleaseGates.Evidence(c.Evidence).Where(g => !g.Passed).ToList();
                if (failing.Count > 0)
                    throw PortalError.Validation($"The release cannot be approved while gates fail: {string.Join("; ", failing.Select(g => $"{g.Title}: {g.Summary}"))}");
            }
            var mine = release.Approvals.Where(a => a.LeadId == actor.UserId && a.IsStanding && a.EvidenceFingerprint == c.Fingerprint).ToList();
            if (mine.Any(a => a.Decision == decision))
                throw PortalError.Conflict(decision == ReleaseDecision.Approve
                    ? "You have already approved this release on this evidence."
                    : "You have already rejected this release on this evidence.");

            // A lead's new decision replaces their previous one.
            foreach (var previous in mine) previous.ClearedAt = c.Now;
            release.Approvals.Add(new ReleaseApproval
            {
                ReleaseId = releaseId, LeadId = actor.UserId, Decision = decision, Reason = reason, EvidenceFingerprint = c.Fingerprint, At = c.Now,
            });
            inbox.Add(c.Db, release.CreatedById, actor.UserId, NotificationKind.ReleaseDecision,
                $"{actor.DisplayName} {(decision == ReleaseDecision.Approve ? "approved" : "rejected")} {release.Name} {release.Version}{(reason is null ? "" : $": {reason}")}",
                $"/releases/{releaseId}");
            notified = release.CreatedById;
            return Task.FromResult(new ReleaseNote(decision == ReleaseDecision.Approve ? ReleaseActions.Approved : ReleaseActions.Rejected,
                reason ?? $"approved on evidence {ReleaseDecisions.Short(c.Fingerprint)}"));
        }, ct: ct);
        inbox.Announce([notified!]);
    }
}
