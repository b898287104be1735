namespace Portal.Web.Features.Releases;

/// <summary>
/// Which of a release's decisions the current evidence no longer supports. Reads show them as cleared without
/// storing anything; the next change to the release stores the clearing, with an audit entry each.
/// </summary>
public static class ReleaseDecisions
{
    /// <summary>Standing decisions given on other evidence than <paramref name="fingerprint"/>. A published release is frozen: none.</summary>
    public static IReadOnlyList<ReleaseApproval> Stale(ReleaseEvidence e, string fingerprint) =>
        e.Release.Status == ReleaseStatus.Published
            ? []
            : e.Release.Approvals.Where(a => a.IsStanding && a.EvidenceFingerprint != fingerprint).ToList();

    public static string ClearedDetail(ReleaseEvidence e, ReleaseApproval stale, string fingerprint) =>
        $"The {stale.Decision.ToString().ToLowerInvariant()} of {e.NameOf(stale.LeadId)} was given on evidence " +
        $"{Short(stale.EvidenceFingerprint)}; the evidence is now {Short(fingerprint)}.";

    public static string Short(string fingerprint) => fingerprint.Length > 12 ? fingerprint[..12] : fingerprint;
}
