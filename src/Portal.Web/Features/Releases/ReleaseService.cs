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
    string Fingerprint, IReadOnlyList<DecisionView> Decisions, IReadOnlyList<AuditView> Audit, IReadOnlyList<CandidateRun> Candidates)
{
    public bool EvidenceGatesPass => Gates.Where(g => g.Kind != GateKind.SignOff).All(g => g.Passed);
    public bool AllGatesPass => Gates.All(g => g.Passed);
    public bool IsPublished => Release.Status == ReleaseStatus.Published;
}

/// <summary>Creating, reading and editing releases. Sign-off and publishing have their own services.</summary>
public sealed class ReleaseService(IDbContextFactory<PortalDbContext> dbFactory, LiveUpdates live, TimeProvider clock)
{
    public async Task<IReadOnlyList<ReleaseSummary>> ListAsync(long projectId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var ids = await db.Releases.Where(r => r.ProjectId == projectId).OrderByDescending(r => r.CreatedAt).Select(r => r.Id).ToListAsync(ct);
        var list = new List<ReleaseSummary>();
        foreach (var id in ids)
        {
            var e = await ReleaseEvidenceLoader.LoadAsync(db, id, ct);
            var gates = Gates(e, ReleaseGates.Fingerprint(e));
            list.Add(new ReleaseSummary(id, e.Release.Name, e.Release.Version, e.Release.Variant, e.Release.Status, gates.Count(g => g.Passed), gates.Count));
        }
        return list;
    }

    public async Task<ReleaseView> GetAsync(long releaseId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var e = await ReleaseEvidenceLoader.LoadAsync(db, releaseId, ct);
        var fingerprint = ReleaseGates.Fingerprint(e);
        ReleaseEvidenceLoader.ClearStaleDecisions(db, e, fingerprint, clock.GetUtcNow());
        if (db.ChangeTracker.HasChanges())
        {
            // Another reader may have cleared the same decisions a moment ago; either way they are cleared.
            try { await db.SaveChangesAsync(ct); }
            catch (DbUpdateConcurrencyException) { return await GetAsync(releaseId, ct); }
        }

        var audit = await db.ReleaseAudit.AsNoTracking().Where(a => a.ReleaseId == releaseId).OrderByDescending(a => a.At).ThenByDescending(a => a.Id).ToListAsync(ct);
        var candidates = await db.Runs.AsNoTracking().Include(r => r.FinalMetrics)
            .Where(r => r.ProjectId == e.Project.Id && r.Status == RunStatus.Succeeded).OrderByDescending(r => r.Id).Take(200).ToListAsync(ct);
        var userIds = audit.Select(a => a.UserId).Concat(candidates.Select(r => r.StartedById)).Distinct().ToList();
        var names = await db.Users.Where(u => userIds.Contains(u.Id)).ToDictionaryAsync(u => u.Id, u => u.DisplayName, ct);
        string Name(string id) => names.TryGetValue(id, out var n) ? n : e.NameOf(id);
        var chosen = e.Release.Runs.Select(r => r.RunId).ToHashSet();

        return new ReleaseView(e.Release, e.Project, e.Tolerance, Gates(e, fingerprint), ReleaseGates.Claims(e), fingerprint,
            e.Release.Approvals.OrderByDescending(a => a.At).ThenByDescending(a => a.Id)
                .Select(a => new DecisionView(a.Id, e.NameOf(a.LeadId), a.Decision, a.Reason, a.EvidenceFingerprint, a.At, a.ClearedAt)).ToList(),
            audit.Select(a => new AuditView(Name(a.UserId), a.Action, a.Detail, a.EvidenceFingerprint, a.At)).ToList(),
            candidates.Select(r => new CandidateRun(r.Id, r.Seed, Name(r.StartedById), r.Dataset, r.Split, r.Commit,
                string.Join(", ", r.FinalMetrics.OrderBy(m => m.Name).Select(m => $"{m.Name} {ReleaseGates.F(m.Value)}")), chosen.Contains(r.Id))).ToList());
    }

    public static IReadOnlyList<GateResult> Gates(ReleaseEvidence e, string fingerprint) =>
        [.. ReleaseGates.Evidence(e), ReleaseGates.SignOff(e, fingerprint)];

    public async Task<long> CreateAsync(Actor actor, long projectId, ReleaseInput input, CancellationToken ct = default)
    {
        actor = await dbFactory.RefreshAsync(actor, ct);
        actor.RequireLead("create a release");
        Validate(input);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var project = await db.Projects.AsNoTracking().Include(p => p.Claims).FirstOrDefaultAsync(p => p.Id == projectId, ct)
                      ?? throw PortalError.NotFound($"There is no project {projectId}.");
        await RequireUniqueAsync(db, projectId, input, null, ct);
        var release = new Release { ProjectId = projectId, CreatedById = actor.UserId, CreatedAt = clock.GetUtcNow() };
        Apply(release, input);
        release.ModelCardMarkdown = ModelCardTemplate.Prefill(project, release, [], []);
        db.Releases.Add(release);
        await db.SaveChangesAsync(ct);
        await AuditAsync(db, release.Id, actor, ReleaseActions.Created, $"{release.Name} {release.Version}", ct);
        live.Publish(Topics.Project(projectId), Topics.Release(release.Id));
        return release.Id;
    }

    public Task UpdateAsync(Actor actor, long releaseId, ReleaseInput input, CancellationToken ct = default)
    {
        return EditAsync(actor, releaseId, "edit a release", ReleaseActions.Edited, async (db, e) =>
        {
            Validate(input);
            await RequireUniqueAsync(db, e.Release.ProjectId, input, releaseId, ct);
            Apply(e.Release, input);
            return $"{input.Name} {input.Version}, variant '{input.Variant}', commit {input.Commit}, stages {string.Join(",", input.RequiredStages.Select(s => (int)s))}, " +
                   $"{input.MinSeeds} seeds, {input.RequiredApprovals} approvals, tolerance {(input.Tolerance is { } t ? ReleaseGates.F(t) : "project's")}";
        }, ct);
    }

    public Task ChooseRunsAsync(Actor actor, long releaseId, IReadOnlyCollection<long> runIds, CancellationToken ct = default) =>
        EditAsync(actor, releaseId, "choose a release's runs", ReleaseActions.RunsChosen, async (db, e) =>
        {
            var ids = runIds.Distinct().ToList();
            var found = await db.Runs.Where(r => ids.Contains(r.Id) && r.ProjectId == e.Release.ProjectId).Select(r => r.Id).ToListAsync(ct);
            var foreign = ids.Except(found).ToList();
            if (foreign.Count > 0) throw PortalError.Validation($"Run(s) {string.Join(", ", foreign.Select(i => $"#{i}"))} are not runs of this project.");
            e.Release.Runs.RemoveAll(r => !ids.Contains(r.RunId));
            foreach (var id in ids.Where(id => e.Release.Runs.All(r => r.RunId != id)))
                e.Release.Runs.Add(new ReleaseRun { ReleaseId = releaseId, RunId = id });
            return ids.Count == 0 ? "no runs" : string.Join(", ", ids.Order().Select(i => $"#{i}"));
        }, ct);

    public Task SaveModelCardAsync(Actor actor, long releaseId, string markdown, CancellationToken ct = default) =>
        EditAsync(actor, releaseId, "edit the model card", ReleaseActions.CardEdited, (_, e) =>
        {
            if (markdown.Length > 100_000) throw PortalError.Validation("The model card is longer than 100,000 characters.");
            e.Release.ModelCardMarkdown = markdown;
            var unfilled = ModelCardTemplate.UnfilledSections(markdown);
            return Task.FromResult(unfilled.Count == 0 ? "every section filled" : $"{unfilled.Count} section(s) to fill");
        }, ct);

    /// <summary>Rewrites the card from the template and the current evidence; sections only a person can fill say TODO.</summary>
    public Task PrefillModelCardAsync(Actor actor, long releaseId, CancellationToken ct = default) =>
        EditAsync(actor, releaseId, "edit the model card", ReleaseActions.CardEdited, (_, e) =>
        {
            e.Release.ModelCardMarkdown = ModelCardTemplate.Prefill(e.Project, e.Release, ReleaseGates.Claims(e), e.ChosenRuns);
            return Task.FromResult("prefilled from the template and the chosen runs");
        }, ct);

    /// <summary>Leads and mentors comment; members read.</summary>
    public async Task CommentAsync(Actor actor, long releaseId, string text, CancellationToken ct = default)
    {
        actor = await dbFactory.RefreshAsync(actor, ct);
        if (!actor.IsLead && !actor.IsMentor) throw PortalError.Forbidden("Only leads and mentors can comment on a release.");
        if (string.IsNullOrWhiteSpace(text)) throw PortalError.Validation("Write a comment first.");
        if (text.Length > 4000) throw PortalError.Validation("A comment is at most 4,000 characters.");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (!await db.Releases.AnyAsync(r => r.Id == releaseId, ct)) throw PortalError.NotFound($"There is no release {releaseId}.");
        await AuditAsync(db, releaseId, actor, ReleaseActions.Commented, text.Trim(), ct);
        live.Publish(Topics.Release(releaseId));
    }

    private async Task EditAsync(Actor actor, long releaseId, string what, string action,
        Func<PortalDbContext, ReleaseEvidence, Task<string>> change, CancellationToken ct)
    {
        actor = await dbFactory.RefreshAsync(actor, ct);
        actor.RequireLead(what);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var e = await ReleaseEvidenceLoader.LoadAsync(db, releaseId, ct);
        RequireDraft(e.Release);
        var detail = await change(db, e);
        e.Release.RowVersion++;
        await SaveAsync(db, ct);
        await AuditAsync(db, releaseId, actor, action, detail, ct);
        live.Publish(Topics.Release(releaseId), Topics.Project(e.Release.ProjectId));
    }

    /// <summary>Adds an audit entry stamped with the evidence as it is after the action.</summary>
    private async Task AuditAsync(PortalDbContext db, long releaseId, Actor actor, string action, string detail, CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        var e = await ReleaseEvidenceLoader.LoadAsync(db, releaseId, ct);
        db.ReleaseAudit.Add(new ReleaseAuditEntry
        {
            ReleaseId = releaseId, UserId = actor.UserId, Action = action, Detail = detail,
            EvidenceFingerprint = ReleaseGates.Fingerprint(e), At = clock.GetUtcNow(),
        });
        await db.SaveChangesAsync(ct);
    }

    internal static void RequireDraft(Release release)
    {
        if (release.Status == ReleaseStatus.Published)
            throw PortalError.Conflict($"{release.Name} {release.Version} is published and frozen; make a new version to change it.");
    }

    internal static async Task SaveAsync(PortalDbContext db, CancellationToken ct)
    {
        try { await db.SaveChangesAsync(ct); }
        catch (DbUpdateConcurrencyException)
        {
            throw PortalError.Conflict("Someone changed this release at the same time. Reload it and try again.");
        }
    }

    public static void Validate(ReleaseInput input)
    {
        if (string.IsNullOrWhiteSpace(input.Name)) throw PortalError.Validation("A release needs a name.");
        if (string.IsNullOrWhiteSpace(input.Version)) throw PortalError.Validation("A release needs a version.");
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
