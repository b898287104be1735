using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Design;

public enum DesignDocumentState { Draft, InReview, ChangesRequested, Approved }

/// <summary>
/// When a design document counts as approved: every requested reviewer approved its latest version.
/// A new version clears earlier approvals because verdicts belong to the version they were given on.
/// Shared by the design pages and the release gates so both say the same thing.
/// </summary>
public static class DesignApprovalRules
{
    public static DesignDocumentState StateOf(
        int latestVersion, IEnumerable<string> requestedReviewerIds, IEnumerable<ReviewVerdict> verdicts)
    {
        var reviewers = requestedReviewerIds.ToHashSet();
        if (reviewers.Count == 0 || latestVersion == 0) return DesignDocumentState.Draft;

        // A reviewer's standing verdict on the latest version is their most recent Approve or RequestChanges on it.
        var decisive = verdicts
            .Where(v => v.VersionNumber == latestVersion && v.Verdict != Verdict.Comment && reviewers.Contains(v.ReviewerId))
            .GroupBy(v => v.ReviewerId)
            .ToDictionary(g => g.Key, g => g.OrderByDescending(v => v.At).ThenByDescending(v => v.Id).First().Verdict);

        if (decisive.Values.Any(v => v == Verdict.RequestChanges)) return DesignDocumentState.ChangesRequested;
        return reviewers.All(r => decisive.TryGetValue(r, out var v) && v == Verdict.Approve)
            ? DesignDocumentState.Approved
            : DesignDocumentState.InReview;
    }
}

/// <summary>Who settles a review thread: the one who opened it, the document's author, or a lead. Shared by the page and the service.</summary>
public static class ReviewThreadRules
{
    public static bool CanResolve(Actor actor, string threadAuthorId, string documentAuthorId) =>
        actor.UserId == threadAuthorId || actor.UserId == documentAuthorId || actor.IsLead;
}
