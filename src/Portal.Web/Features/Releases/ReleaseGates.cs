using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Portal.Web.Features.Design;
using Portal.Web.Features.Projects;
using Portal.Web.Features.Runs;
using Portal.Web.Features.Tasks;

namespace Portal.Web.Features.Releases;

public enum GateKind { Stages, Design, Reproducibility, Seeds, IndependentRerun, ModelCard, SignOff, ReferenceMatch, Defects }

public enum GateState { Pass, Fail }

/// <summary>One gate's verdict, why, and where its evidence is.</summary>
public sealed record GateResult(GateKind Kind, string Title, GateState State, string Summary, IReadOnlyList<string> Details, string EvidenceLink)
{
    public bool Passed => State == GateState.Pass;
}

/// <summary>A defect as the defects gate sees it.</summary>
public sealed record DefectFact(long Id, string Title, ModelComponent Component, bool Blocking, bool Open);

public sealed record DesignStatus(long DocumentId, string Title, ModelComponent? Component, int LatestVersion, DesignDocumentState State);

/// <summary>One run's value of a claimed metric.</summary>
public sealed record RunValue(long RunId, int Seed, string StartedById, string Split, string? Commit, double Value);

/// <summary>How the chosen runs stand against one paper claim.</summary>
public sealed record ClaimResult(PaperClaim Claim, IReadOnlyList<RunValue> Counted, IReadOnlyList<RunValue> OtherSplit,
    double? Mean, double? StdDev, double? Best, double Tolerance)
{
    public double? Gap => Mean - Claim.Value;
    public bool Within => Mean is { } m && Math.Abs(m - Claim.Value) <= Tolerance + 1e-9;
}

/// <summary>Everything the gates look at, loaded once. The fingerprint is computed from exactly this.</summary>
public sealed record ReleaseEvidence(
    Release Release,
    Project Project,
    IReadOnlyList<ProjectTask> StageTasks,
    IReadOnlyList<ModelComponent> TaskComponents,
    IReadOnlyList<DesignStatus> Designs,
    IReadOnlyList<Run> ChosenRuns,
    IReadOnlyDictionary<string, string> UserNames,
    IReadOnlyList<DefectFact>? Defects = null)
{
    /// <summary>The project's differential runs (the implementation compared layer by layer with the reference).</summary>
    public IReadOnlyList<Run> DifferentialRuns { get; init; } = [];

    public double Tolerance => Release.Tolerance ?? Project.Tolerance;

    /// <summary>The checkpoints the chosen runs stored: the bundle ships one of them, so approvals cover their hashes.</summary>
    public IReadOnlyList<RunArtifact> Checkpoints { get; init; } = [];
    public string NameOf(string userId) => UserNames.TryGetValue(userId, out var n) ? n : userId;
}

/// <summary>
/// The nine gates, computed from evidence and never stored. Pure functions so they can be tested on crafted
/// evidence and shown identically on every page.
/// </summary>
public static class ReleaseGates
{
    public static IReadOnlyList<ClaimResult> Claims(ReleaseEvidence e)
    {
        var results = new List<ClaimResult>();
        foreach (var claim in e.Project.Claims.OrderBy(c => c.Id))
        {
            var counted = new List<RunValue>();
            var other = new List<RunValue>();
            foreach (var run in e.ChosenRuns.Where(r => r.Status == RunStatus.Succeeded && Same(r.Dataset, claim.Dataset)))
            {
                var metric = run.FinalMetrics.FirstOrDefault(m => Same(m.Name, claim.Metric));
                if (metric is null) continue;
                var value = new RunValue(run.Id, run.Seed, run.StartedById, run.Split, run.Commit, metric.Value);
                (Same(run.Split, claim.Split) ? counted : other).Add(value);
            }
            results.Add(new ClaimResult(claim, counted, other, Mean(counted), StdDev(counted),
                counted.Count == 0 ? null : counted.Max(v => v.Value), e.Tolerance));
        }
        return results;
    }

    /// <summary>Runs that count for at least one claim: succeeded, chosen, same dataset and split as the claim.</summary>
    public static IReadOnlyList<Run> QualifyingRuns(ReleaseEvidence e, IReadOnlyList<ClaimResult> claims)
    {
        var ids = claims.SelectMany(c => c.Counted).Select(v => v.RunId).ToHashSet();
        return e.ChosenRuns.Where(r => ids.Contains(r.Id)).OrderBy(r => r.StartedAt ?? r.QueuedAt).ThenBy(r => r.Id).ToList();
    }

    /// <summary>Every gate: the evidence gates and the sign-off on the evidence with <paramref name="fingerprint"/>.</summary>
    public static IReadOnlyList<GateResult> All(ReleaseEvidence e, string fingerprint) => [.. Evidence(e), SignOff(e, fingerprint)];

    public static IReadOnlyList<GateResult> Evidence(ReleaseEvidence e)
    {
        var claims = Claims(e);
        var qualifying = QualifyingRuns(e, claims);
        return [Stages(e), Design(e), Reproducibility(e, claims), Seeds(e, claims, qualifying), Independent(e, qualifying), ModelCard(e), ReferenceMatch(e), Defects(e)];
    }

    public static GateResult Stages(ReleaseEvidence e)
    {
        var link = $"/projects/{e.Project.Id}/board";
        var required = e.Release.RequiredStages.Order().ToList();
        var stages = (required.Count == 1 ? "the stage " : "the stages ") + string.Join(", ", required.Select(s => s.Name()));
        var open = e.StageTasks.Where(t => t.Status != ProjectTaskStatus.Done).OrderBy(t => t.Stage).ThenBy(t => t.Id).ToList();
        if (e.Release.RequiredStages.Count == 0)
            return new(GateKind.Stages, "Stages", GateState.Pass, "The release requires no stage.", [], link);
        if (e.StageTasks.Count == 0)
            return new(GateKind.Stages, "Stages", GateState.Pass, $"No task in {stages}: nothing is left open.", [], link);
        if (open.Count == 0)
            return new(GateKind.Stages, "Stages", GateState.Pass, $"{DisplayNames.AllOf(e.StageTasks.Count, "task")} of {stages} {(e.StageTasks.Count == 1 ? "is" : "are")} done.", [], link);
        return new(GateKind.Stages, "Stages", GateState.Fail, $"{open.Count} of {DisplayNames.Count(e.StageTasks.Count, "task")} of {stages} {(open.Count == 1 ? "is" : "are")} not done.",
            open.Select(t => $"#{t.Id} {t.Title} ({t.Stage.Name()}): {t.Status.Label().ToLowerInvariant()}").ToList(), link);
    }

    public static GateResult Design(ReleaseEvidence e)
    {
        var link = $"/projects/{e.Project.Id}/design";
        var details = new List<string>();
        // Infrastructure is operations work, not a designed component of the model.
        var documented = e.Designs.Where(d => d.Component is not null).Select(d => d.Component!.Value).ToHashSet();
        foreach (var missing in e.TaskComponents.Where(c => c != ModelComponent.Infrastructure && !documented.Contains(c)).Distinct().Order())
            details.Add($"{missing.Label()}: no design document.");
        foreach (var d in e.Designs.Where(d => d.State != DesignDocumentState.Approved).OrderBy(d => d.DocumentId))
            details.Add($"{d.Title} ({d.Component?.Label() ?? "project"}): {StateText(d.State)} at version {d.LatestVersion}.");
        if (e.Designs.Count == 0)
            return new(GateKind.Design, "Design", GateState.Fail, "No design document yet.", details, link);
        return details.Count == 0
            ? new(GateKind.Design, "Design", GateState.Pass, $"{DisplayNames.AllOf(e.Designs.Count, "design document")} {(e.Designs.Count == 1 ? "is" : "are")} approved at the latest version.", [], link)
            : new(GateKind.Design, "Design", GateState.Fail, $"{DisplayNames.Count(details.Count, "design item")} not approved at the latest version.", details, link);
    }

    public static GateResult Reproducibility(ReleaseEvidence e, IReadOnlyList<ClaimResult> claims)
    {
        var link = $"/reproducibility/{e.Project.Id}";
        var tol = F(e.Tolerance);
        if (claims.Count == 0)
            return new(GateKind.Reproducibility, "Reproducibility", GateState.Fail, "The project has no paper claim to reproduce.", [], link);
        var details = new List<string>();
        foreach (var c in claims)
        {
            var what = $"{c.Claim.Metric} on {c.Claim.Dataset} {c.Claim.Split} (paper {F(c.Claim.Value)})";
            if (c.Mean is { } mean)
                details.Add($"{what}: mean {F(mean)} over {DisplayNames.Count(c.Counted.Count, "run")}, gap {Signed(mean - c.Claim.Value)}, " +
                            (c.Within ? $"within ±{tol}." : $"outside ±{tol}."));
            else
                details.Add($"{what}: no chosen succeeded run on {c.Claim.Split}.");
            foreach (var split in c.OtherSplit.GroupBy(v => v.Split))
                details.Add($"{c.Claim.Metric}: {DisplayNames.Count(split.Count(), "run")} on {split.Key} (mean {F(split.Average(v => v.Value))}) not counted: the paper's number is on {c.Claim.Split}.");
        }
        foreach (var run in e.ChosenRuns.Where(r => r.Status != RunStatus.Succeeded))
            details.Add($"Run #{run.Id} is {run.Status.ToString().ToLowerInvariant()}, not counted.");
        var passed = claims.All(c => c.Within);
        var failing = claims.Count(c => !c.Within);
        return new(GateKind.Reproducibility, "Reproducibility", passed ? GateState.Pass : GateState.Fail,
            passed ? $"{DisplayNames.AllOf(claims.Count, "claim")} reproduced within ±{tol} (mean over seeds)." : $"{failing} of {DisplayNames.Count(claims.Count, "claim")} not reproduced within ±{tol}.",
            details, link);
    }

    public static GateResult Seeds(ReleaseEvidence e, IReadOnlyList<ClaimResult> claims, IReadOnlyList<Run> qualifying)
    {
        var link = $"/projects/{e.Project.Id}/runs";
        var seeds = qualifying.Select(r => r.Seed).Distinct().Count();
        var details = claims.Where(c => c.Mean is not null)
            .Select(c => $"{c.Claim.Metric}: mean {F(c.Mean!.Value)}, std {(c.StdDev is { } s ? F(s) : "n/a")} over seeds {string.Join(", ", c.Counted.Select(v => v.Seed).Distinct().Order())}.")
            .ToList();
        var passed = seeds >= e.Release.MinSeeds;
        return new(GateKind.Seeds, "Seeds", passed ? GateState.Pass : GateState.Fail,
            $"{DisplayNames.Count(seeds, "qualifying run")} with different seeds; {e.Release.MinSeeds} required.", details, link);
    }

    public static GateResult Independent(ReleaseEvidence e, IReadOnlyList<Run> qualifying)
    {
        var link = $"/projects/{e.Project.Id}/runs";
        if (qualifying.Count == 0)
            return new(GateKind.IndependentRerun, "Independent re-run", GateState.Fail, "No qualifying run yet.", [], link);
        var first = qualifying[0];
        var others = qualifying.Where(r => r.StartedById != first.StartedById).Select(r => r.StartedById).Distinct().ToList();
        return others.Count > 0
            ? new(GateKind.IndependentRerun, "Independent re-run", GateState.Pass,
                $"First run #{first.Id} by {e.NameOf(first.StartedById)}; re-run by {string.Join(", ", others.Select(e.NameOf))}.", [], link)
            : new(GateKind.IndependentRerun, "Independent re-run", GateState.Fail,
                $"Every qualifying run was started by {e.NameOf(first.StartedById)}; another member must re-run it.", [], link);
    }

    public static GateResult ModelCard(ReleaseEvidence e)
    {
        var unfilled = ModelCardTemplate.UnfilledSections(e.Release.ModelCardMarkdown);
        return unfilled.Count == 0
            ? new(GateKind.ModelCard, "Model card", GateState.Pass, "Every section of the model card is filled.", [], "#model-card")
            : new(GateKind.ModelCard, "Model card", GateState.Fail, $"{DisplayNames.Count(unfilled.Count, "section")} to fill: {string.Join(", ", unfilled)}.",
                unfilled.Select(s => $"{s}: empty or still marked TODO.").ToList(), "#model-card");
    }

    /// <summary>
    /// The implementation matches the reference: the latest finished differential run of the release's commit compared
    /// every tensor within tolerance. A run of another commit, a failed run or one with a diverging layer does not count.
    /// </summary>
    public static GateResult ReferenceMatch(ReleaseEvidence e)
    {
        const string Title = "Matches the reference";
        var commit = e.Release.Commit;
        var ofCommit = e.DifferentialRuns.Where(r => r.IsFinished && commit.Length > 0 && r.Commit == commit)
            .OrderByDescending(r => r.EndedAt ?? r.QueuedAt).ThenByDescending(r => r.Id).ToList();
        var details = e.DifferentialRuns.OrderByDescending(r => r.Id).Take(5).Select(r => $"#{r.Id} at {r.Commit ?? "no commit"}: {DifferentialText(r)}").ToList();
        if (ofCommit.Count == 0)
            return new(GateKind.ReferenceMatch, Title, GateState.Fail,
                $"No finished differential run of commit {(commit.Length > 0 ? commit : "(the release names none)")}.", details, $"/projects/{e.Project.Id}/runs");
        var latest = ofCommit[0];
        var link = $"/runs/{latest.Id}/differential";
        return DifferentialPassed(latest)
            ? new(GateKind.ReferenceMatch, Title, GateState.Pass, $"Differential run #{latest.Id} of {commit}: {DifferentialText(latest)}", details, link)
            : new(GateKind.ReferenceMatch, Title, GateState.Fail, $"The latest differential run of {commit}, #{latest.Id}: {DifferentialText(latest)}", details, link);
    }

    public static bool DifferentialPassed(Run run) => DifferentialOutcome.Passed(run);

    private static string DifferentialText(Run run) => DifferentialOutcome.Describe(run);

    /// <summary>
    /// A release covers every component of its project, so any open defect marked blocking stops it.
    /// </summary>
    public static GateResult Defects(ReleaseEvidence e)
    {
        var link = $"/projects/{e.Project.Id}/defects";
        var blocking = (e.Defects ?? []).Where(d => d.Blocking && d.Open).OrderBy(d => d.Component).ThenBy(d => d.Id).ToList();
        return blocking.Count == 0
            ? new(GateKind.Defects, "Defects", GateState.Pass, "No open defect blocks the release.", [], link)
            : new(GateKind.Defects, "Defects", GateState.Fail, $"{DisplayNames.Count(blocking.Count, "open blocking defect")}.",
                blocking.Select(d => $"#{d.Id} {d.Title} ({d.Component.Label()})").ToList(), link);
    }

    /// <summary>Standing decisions on the current evidence: the latest of each lead that was not cleared.</summary>
    public static GateResult SignOff(ReleaseEvidence e, string fingerprint)
    {
        var standing = e.Release.Approvals.Where(a => a.IsStanding && a.EvidenceFingerprint == fingerprint)
            .GroupBy(a => a.LeadId).Select(g => g.OrderByDescending(a => a.At).ThenByDescending(a => a.Id).First()).ToList();
        var approvers = standing.Where(a => a.Decision == ReleaseDecision.Approve).ToList();
        var rejections = standing.Where(a => a.Decision == ReleaseDecision.Reject).ToList();
        var details = approvers.Select(a => $"Approved by {e.NameOf(a.LeadId)} on {a.At:yyyy-MM-dd HH:mm}.")
            .Concat(rejections.Select(a => $"Rejected by {e.NameOf(a.LeadId)}: {a.Reason}")).ToList();
        var passed = rejections.Count == 0 && approvers.Count >= e.Release.RequiredApprovals;
        var summary = rejections.Count > 0
            ? $"Rejected by {string.Join(", ", rejections.Select(a => e.NameOf(a.LeadId)))}."
            : $"{approvers.Count} of {DisplayNames.Count(e.Release.RequiredApprovals, "lead approval")}.";
        return new(GateKind.SignOff, "Sign-off", passed ? GateState.Pass : GateState.Fail, summary, details, "#sign-off");
    }

    /// <summary>
    /// A hash of everything the evidence gates look at. An approval stores it; when it differs later,
    /// something the approver saw has changed.
    /// </summary>
    public static string Fingerprint(ReleaseEvidence e)
    {
        var s = new StringBuilder();
        var r = e.Release;
        s.Append("release|").Append(r.Name).Append('|').Append(r.Version).Append('|').Append(r.Variant).Append('|').Append(r.Commit)
            .Append("|stages:").Append(string.Join(',', r.RequiredStages.Order().Select(x => (int)x)))
            .Append("|seeds:").Append(r.MinSeeds).Append("|approvals:").Append(r.RequiredApprovals).Append("|tol:").Append(F(e.Tolerance, "R")).Append('\n');
        foreach (var c in e.Project.Claims.OrderBy(c => c.Id))
            s.Append("claim|").Append(c.Metric).Append('|').Append(c.Dataset).Append('|').Append(c.Split).Append('|').Append(F(c.Value, "R")).Append('\n');
        foreach (var t in e.StageTasks.OrderBy(t => t.Id))
            s.Append("task|").Append(t.Id).Append('|').Append((int)t.Stage).Append('|').Append(t.Status).Append('\n');
        s.Append("components|").Append(string.Join(',', e.TaskComponents.Distinct().Order().Select(c => (int)c))).Append('\n');
        foreach (var d in e.Designs.OrderBy(d => d.DocumentId))
            s.Append("design|").Append(d.DocumentId).Append('|').Append(d.LatestVersion).Append('|').Append(d.State).Append('\n');
        foreach (var run in e.ChosenRuns.OrderBy(x => x.Id))
        {
            s.Append("run|").Append(run.Id).Append('|').Append(run.Status).Append('|').Append(run.Seed).Append('|').Append(run.StartedById)
                .Append('|').Append(run.Dataset).Append('|').Append(run.Split).Append('|').Append(run.Commit);
            foreach (var m in run.FinalMetrics.OrderBy(m => m.Name, StringComparer.Ordinal))
                s.Append('|').Append(m.Name).Append('=').Append(F(m.Value, "R"));
            // The newest checkpoint is the one a bundle would ship from this run (ReleasePublisher picks it the same way).
            var checkpoint = e.Checkpoints.Where(a => a.RunId == run.Id && a.Kind == "checkpoint")
                .OrderByDescending(a => a.Step ?? -1).ThenByDescending(a => a.Id).FirstOrDefault();
            if (checkpoint is not null) s.Append("|checkpoint:").Append(checkpoint.Step).Append(':').Append(checkpoint.Sha256);
            s.Append('\n');
        }
        foreach (var run in e.DifferentialRuns.OrderBy(x => x.Id))
        {
            s.Append("differential|").Append(run.Id).Append('|').Append(run.Status).Append('|').Append(run.Commit);
            foreach (var m in run.FinalMetrics.OrderBy(m => m.Name, StringComparer.Ordinal))
                s.Append('|').Append(m.Name).Append('=').Append(F(m.Value, "R"));
            s.Append('\n');
        }
        foreach (var d in (e.Defects ?? []).Where(d => d.Blocking && d.Open).OrderBy(d => d.Id))
            s.Append("defect|").Append(d.Id).Append('|').Append((int)d.Component).Append('\n');
        s.Append("card|").Append(r.ModelCardMarkdown.ReplaceLineEndings("\n").Trim());
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(s.ToString())));
    }

    public static double? Mean(IReadOnlyCollection<RunValue> values) => values.Count == 0 ? null : values.Average(v => v.Value);

    /// <summary>Sample standard deviation (n - 1); none for a single run.</summary>
    public static double? StdDev(IReadOnlyCollection<RunValue> values)
    {
        if (values.Count < 2) return null;
        var mean = values.Average(v => v.Value);
        return Math.Sqrt(values.Sum(v => (v.Value - mean) * (v.Value - mean)) / (values.Count - 1));
    }

    public static string F(double value, string format = "0.0##") => Unsigned0(value.ToString(format, CultureInfo.InvariantCulture));

    /// <summary>A gap with its sign; one that rounds to zero is written without a sign, never "-0.0".</summary>
    public static string Signed(double value)
    {
        var text = F(value);
        return text.StartsWith('-') || text.TrimStart('0', '.') == "" ? text : "+" + text;
    }

    // A tiny negative value formats as "-0.0": that is zero to the reader.
    private static string Unsigned0(string text) => text.StartsWith('-') && text.AsSpan(1).Trim("0.").IsEmpty ? text[1..] : text;

    private static bool Same(string a, string b) => string.Equals(a.Trim(), b.Trim(), StringComparison.OrdinalIgnoreCase);

    private static string StateText(DesignDocumentState state) => state == DesignDocumentState.Draft ? "draft, no review" : state.Label();
}
