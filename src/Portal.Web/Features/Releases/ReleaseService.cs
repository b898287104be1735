using Microsoft.EntityFrameworkCore;
using Portal.Web.Data;
using Portal.Web.Features.Projects;
using Portal.Web.Features.Runs;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Releases;

public sealed record ReleaseInput(
    string Name, string Version, string Variant, string Commit,
    IReadOnlyList<ReproductionStage> RequiredStages, int MinSeeds = ReleaseDefaults.MinSeeds,
    int RequiredApprovals = ReleaseDefaults.RequiredApprovals, double? Tolerance = null);

public sealed record ReleaseSummary(long Id, string Name, string Version, string Variant, ReleaseStatus Status, int GatesPassed, int GateCount);

public sealed record DecisionView(long Id, string LeadName, ReleaseDecision Decision, string? Reason, string Fingerprint, DateTimeOffset At, DateTimeOffset? ClearedAt);

public sealed record AuditView(string UserName, string Action, string Detail, string Fingerprint, DateTimeOffset At);

public sealed record CandidateRun(long Id, int Seed, string StartedBy, string Dataset, string Split, string? Commit, string Metrics, bool Chosen);

/// <summary>A release as its page shows it: the gates computed now, and everything they were computed from.</summary>
public sealed record ReleaseView(
    Release Release, Project Project, double Tolerance, IReadOnlyList<GateResult> Gates, IReadOnlyList<ClaimResult> Claims,
    string Fingerprint, IReadOnlyList<DecisionView> Decisions, IReadOnlyList<AuditView> Audit, IReadOnlyList<CandidateRun> Candidates,
    EnvironmentComparison? Environments = null)
{
    public bool EvidenceGatesPass => Gates.Where(g => g.Kind != GateKind.SignOff).All(g => g.Passed);
    public bool AllGatesPass => Gates.All(g => g.Passed);
    public bool IsPublished => Release.Status == ReleaseStatus.Published;
}

/// <summary>Reading, creating and editing releases. Sign-off and publishing have their own services; every change goes through <see cref="ReleaseChanges"/>.</summary>
public sealed class ReleaseService(IDbContextFactory<PortalDbContext> dbFactory, ReleaseEvidenceReader reader, ReleaseChanges changes, TimeProvider clock)
{
    public async Task<IReadOnlyList<ReleaseSummary>> ListAsync(long projectId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return (await reader.ForProjectAsync(db, projectId, ct)).Select(e =>
        {
            var gates = ReleaseGates.All(e, ReleaseGates.Fingerprint(e));
            return new ReleaseSummary(e.Release.Id, e.Release.Name, e.Release.Version, e.Release.Variant, e.Release.Status, gates.Count(g => g.Passed), gates.Count);
        }).ToList();
    }

    /// <summary>The release as it stands now. Decisions the evidence no longer supports show as cleared; nothing is stored.</summary>
    public async Task<ReleaseView> GetAsync(long releaseId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var e = await reader.ForReleaseAsync(db, releaseId, tracked: false, ct);
        var fingerprint = ReleaseGates.Fingerprint(e);
        var now = clock.GetUtcNow();
        var stale = ReleaseDecisions.Stale(e, fingerprint);
        var staleIds = stale.Select(a => a.Id).ToHashSet();

        var audit = await db.ReleaseAudit.AsNoTracking().Where(a => a.ReleaseId == releaseId).OrderByDescending(a => a.At).ThenByDescending(a => a.Id).ToListAsync(ct);
        var candidates = await db.Runs.AsNoTracking().Include(r => r.FinalMetrics)
            .Where(r => r.ProjectId == e.Project.Id && r.Status == RunStatus.Succeeded).OrderByDescending(r => r.Id).Take(200).ToListAsync(ct);
        var userIds = audit.Select(a => a.UserId).Concat(candidates.Select(r => r.StartedById)).Distinct().ToList();
        var names = await db.Users.Where(u => userIds.Contains(u.Id)).ToDictionaryAsync(u => u.Id, u => u.DisplayName, ct);
        string Name(string id) => names.TryGetValue(id, out var n) ? n : e.NameOf(id);
        var chosen = e.Release.Runs.Select(r => r.RunId).ToHashSet();

        return new ReleaseView(e.Release, e.Project, e.Tolerance, ReleaseGates.All(e, fingerprint), ReleaseGates.Claims(e), fingerprint,
            e.Release.Approvals.OrderByDescending(a => a.At).ThenByDescending(a => a.Id)
                .Select(a => new DecisionView(a.Id, e.NameOf(a.LeadId), a.Decision, a.Reason, a.EvidenceFingerprint, a.At,
                    a.ClearedAt ?? (staleIds.Contains(a.Id) ? now : null))).ToList(),
            stale.Select(a => new AuditView(e.NameOf(a.LeadId), ReleaseActions.Cleared, ReleaseDecisions.ClearedDetail(e, a, fingerprint), fingerprint, now))
                .Concat(audit.Select(a => new AuditView(Name(a.UserId), a.Action, a.Detail, a.EvidenceFingerprint, a.At))).ToList(),
            candidates.Select(r => new CandidateRun(r.Id, r.Seed, Name(r.StartedById), r.Dataset, r.Split, r.Commit,
                string.Join(", ", r.FinalMetrics.OrderBy(m => m.Name).Select(m => $"{m.Name} {ReleaseGates.F(m.Value)}")), chosen.Contains(r.Id))).ToList(),
            RunEnvironments.Compare(e.ChosenRuns.Select(r => (r.Id, RunEnvironments.Parse(r.EnvironmentJson))).ToList()));
    }

    public async Task<long> CreateAsync(Actor actor, long projectId, ReleaseInput input, CancellationToken ct = default)
    {
        actor = await dbFactory.RefreshAsync(actor, ct);
        actor.RequireLead("create a release");
        Validate(input);
        return await changes.CreateAsync(actor.UserId, async db =>
        {
            var project = await db.Projects.AsNoTracking().Include(p => p.Claims).FirstOrDefaultAsync(p => p.Id == projectId, ct)
                          ?? throw PortalError.NotFound($"There is no project {projectId}.");
            await RequireUniqueAsync(db, projectId, input, null, ct);
            var release = new Release { ProjectId = projectId, CreatedById = actor.UserId, CreatedAt = clock.GetUtcNow() };
            Apply(release, input);
            release.ModelCardMarkdown = ModelCardTemplate.Prefill(project, release, [], []);
            return (release, new ReleaseNote(ReleaseActions.Created, $"{release.Name} {release.Version}"));
        }, ct);
    }

    public async Task UpdateAsync(Actor actor, long releaseId, ReleaseInput input, CancellationToken ct = default)
    {
        actor = await dbFactory.RefreshAsync(actor, ct);
        actor.RequireLead("edit a release");
        Validate(input);
        await changes.ChangeAsync(actor.UserId, releaseId, async c =>
        {
            await RequireUniqueAsync(c.Db, c.Release.ProjectId, input, releaseId, ct);
            Apply(c.Release, input);
            return new ReleaseNote(ReleaseActions.Edited,
                $"{input.Name} {input.Version}, variant '{input.Variant}', commit {input.Commit}, stages {string.Join(",", input.RequiredStages.Select(s => (int)s))}, " +
                $"{input.MinSeeds} seeds, {input.RequiredApprovals} approvals, tolerance {(input.Tolerance is { } t ? ReleaseGates.F(t) : "project's")}",
                ChangesEvidence: true);
        }, ct: ct);
    }

    public async Task ChooseRunsAsync(Actor actor, long releaseId, IReadOnlyCollection<long> runIds, CancellationToken ct = default)
    {
        actor = await dbFactory.RefreshAsync(actor, ct);
        actor.RequireLead("choose a release's runs");
        await changes.ChangeAsync(actor.UserId, releaseId, async c =>
        {
            var ids = runIds.Distinct().ToList();
            var found = await c.Db.Runs.Where(r => ids.Contains(r.Id) && r.ProjectId == c.Release.ProjectId).Select(r => r.Id).ToListAsync(ct);
            var foreign = ids.Except(found).ToList();
            if (foreign.Count > 0) throw PortalError.Validation($"Run(s) {string.Join(", ", foreign.Select(i => $"#{i}"))} are not runs of this project.");
            c.Release.Runs.RemoveAll(r => !ids.Contains(r.RunId));
            foreach (var id in ids.Where(id => c.Release.Runs.All(r => r.RunId != id)))
                c.Release.Runs.Add(new ReleaseRun { ReleaseId = releaseId, RunId = id });
            return new ReleaseNote(ReleaseActions.RunsChosen, ids.Count == 0 ? "no runs" : string.Join(", ", ids.Order().Select(i => $"#{i}")), ChangesEvidence: true);
        }, ct: ct);
    }

    public async Task SaveModelCardAsync(Actor actor, long releaseId, string markdown, CancellationToken ct = default)
    {
        actor = await dbFactory.RefreshAsync(actor, ct);
        actor.RequireLead("edit the model card");
        await changes.ChangeAsync(actor.UserId, releaseId, c =>
        {
            if (markdown.Length > 100_000) throw PortalError.Validation("The model card is longer than 100,000 characters.");
            c.Release.ModelCardMarkdown = markdown;
            var unfilled = ModelCardTemplate.UnfilledSections(markdown);
            return Task.FromResult(new ReleaseNote(ReleaseActions.CardEdited,
                unfilled.Count == 0 ? "every section filled" : $"{unfilled.Count} section(s) to fill", ChangesEvidence: true));
        }, ct: ct);
    }

    /// <summary>Rewrites the card from the template and the current evidence; sections only a person can fill say TODO.</summary>
    public async Task PrefillModelCardAsync(Actor actor, long releaseId, CancellationToken ct = default)
    {
        actor = await dbFactory.RefreshAsync(actor, ct);
        actor.RequireLead("edit the model card");
        await changes.ChangeAsync(actor.UserId, releaseId, c =>
        {
            c.Release.ModelCardMarkdown = ModelCardTemplate.Prefill(c.Evidence.Project, c.Release, ReleaseGates.Claims(c.Evidence), c.Evidence.ChosenRuns);
            return Task.FromResult(new ReleaseNote(ReleaseActions.CardEdited, "prefilled from the template and the chosen runs", ChangesEvidence: true));
        }, ct: ct);
    }

    /// <summary>Leads and mentors comment, on drafts and published releases alike; members read.</summary>
    public async Task CommentAsync(Actor actor, long releaseId, string text, CancellationToken ct = default)
    {
        actor = await dbFactory.RefreshAsync(actor, ct);
        if (!actor.IsLead && !actor.IsMentor) throw PortalError.Forbidden("Only leads and mentors can comment on a release.");
        if (string.IsNullOrWhiteSpace(text)) throw PortalError.Validation("Write a comment first.");
        if (text.Length > 4000) throw PortalError.Validation("A comment is at most 4,000 characters.");
        await changes.ChangeAsync(actor.UserId, releaseId, _ => Task.FromResult(new ReleaseNote(ReleaseActions.Commented, text.Trim())), draftOnly: false, ct);
    }

    private static void Validate(ReleaseInput input)
    {
        if (string.IsNullOrWhiteSpace(input.Name)) throw PortalError.Validation("A release needs a name.", nameof(ReleaseInput.Name));
        if (string.IsNullOrWhiteSpace(input.Version)) throw PortalError.Validation("A release needs a version.", nameof(ReleaseInput.Version));
        if (input.Name.Length > 200 || input.Version.Length > 50) throw PortalError.Validation("The name (200) or version (50 characters) is too long.");
        if (input.MinSeeds < 1) throw PortalError.Validation("The seeds gate needs at least 1 run.");
        if (input.RequiredApprovals < 1) throw PortalError.Validation("At least 1 lead must approve a release.");
        if (input.Tolerance is { } t) ProjectForm.ValidateTolerance(t);
    }

    private static async Task RequireUniqueAsync(PortalDbContext db, long projectId, ReleaseInput input, long? exceptId, CancellationToken ct)
    {
        var name = input.Name.Trim();
        var version = input.Version.Trim();
        if (await db.Releases.AnyAsync(r => r.ProjectId == projectId && r.Name == name && r.Version == version && r.Id != exceptId, ct))
            throw PortalError.Conflict($"The project already has a release {name} {version}.");
    }

    private static void Apply(Release release, ReleaseInput input)
    {
        release.Name = input.Name.Trim();
        release.Version = input.Version.Trim();
        release.Variant = input.Variant.Trim();
        release.Commit = input.Commit.Trim();
        release.RequiredStages = input.RequiredStages.Distinct().Order().ToList();
        release.MinSeeds = input.MinSeeds;
        release.RequiredApprovals = input.RequiredApprovals;
        release.Tolerance = input.Tolerance;
    }
}
