using Microsoft.EntityFrameworkCore;
using Portal.Web.Data;
using Portal.Web.Features.Account;
using Portal.Web.Features.Activity;
using Portal.Web.Features.Inbox;
using Portal.Web.Features.Runs;
using Portal.Web.Features.Tasks;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Defects;

/// <summary>
/// Reporting defects and moving them Open → Diagnosed → Fixed → Verified (or Won't fix). Members and leads
/// report; the reporter, the owner and leads edit; the owner and leads move a defect along; only leads mark a
/// defect blocking, decide it won't be fixed, or reopen it. Each status requires its evidence.
/// </summary>
public sealed class DefectService(
    IDbContextFactory<PortalDbContext> dbFactory, ActivityLog activity, InboxNotifier inbox, LiveUpdates live,
    MarkdownRenderer markdown, TimeProvider clock)
{
    public async Task<long> ReportAsync(Actor actor, long projectId, DefectForm form, bool isDemo = false, CancellationToken ct = default)
    {
        await dbFactory.RequireCurrentAsync(actor, ct);
        if (!actor.IsMember && !actor.IsLead) throw PortalError.Forbidden("Only members and leads can report defects.");
        Validate(form);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, ct))
            throw PortalError.NotFound($"There is no project {projectId}.");
        await CheckOwnerAsync(db, actor, null, form.OwnerId, ct);
        var environment = await CheckEvidenceAsync(db, projectId, form, ct);
        var now = clock.GetUtcNow();
        var defect = new Defect { ProjectId = projectId, ReportedById = actor.UserId, CreatedAt = now, IsDemo = isDemo };
        Apply(defect, form);
        defect.EnvironmentJson = environment;
        defect.UpdatedAt = now;
        // The activity entry links to the defect, so it needs the defect's id: two saves, one transaction.
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        db.Defects.Add(defect);
        await db.SaveChangesAsync(ct);
        activity.Add(db, projectId, actor.UserId, $"reported defect “{defect.Title}”", ActivityLinks.Defect(projectId, defect.Id));
        var notified = await NotifyAsync(db, actor, defect, $"Defect reported: “{defect.Title}”", ct);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        Announce(defect.ProjectId, notified);
        return defect.Id;
    }

    /// <summary>
    /// Imports a CSV all or nothing: every bad row is reported and nothing is stored unless every row is good.
    /// Imported defects are open, since the evidence of a fix (commit, verifying run) cannot come from a file.
    /// </summary>
    public async Task<int> ImportAsync(Actor actor, long projectId, string csv, CancellationToken ct = default)
    {
        await dbFactory.RequireCurrentAsync(actor, ct);
        actor.RequireLead("import defects");
        var read = DefectCsv.Read(csv);
        var errors = read.Errors.ToList();
        foreach (var row in read.Rows.Where(r => r.Status != DefectStatus.Open))
            errors.Add($"Line {row.Line}: only open defects can be imported; “{StatusName(row.Status)}” needs its evidence in the portal.");
        foreach (var row in read.Rows)
            if (markdown.FindUnsafeParts(row.Form.Description).Count > 0) errors.Add($"Line {row.Line}: the description contains unsafe HTML.");
        // One problem a line, so the import page can list each bad row by itself.
        if (errors.Count > 0) throw PortalError.Validation("Nothing was imported.\n" + string.Join("\n", errors));
        if (read.Rows.Count == 0) throw PortalError.Validation("Nothing was imported: the file has no defect rows.");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, ct)) throw PortalError.NotFound($"There is no project {projectId}.");
        var now = clock.GetUtcNow();
        foreach (var row in read.Rows)
        {
            var d = new Defect { ProjectId = projectId, ReportedById = actor.UserId, CreatedAt = now, UpdatedAt = now, IsBlocking = row.Blocking };
            Apply(d, row.Form);
            db.Defects.Add(d);
        }
        activity.Add(db, projectId, actor.UserId, $"imported {read.Rows.Count} defect(s) from CSV", ActivityLinks.Defects(projectId));
        await db.SaveChangesAsync(ct);
        live.Publish(Topics.Project(projectId));
        return read.Rows.Count;
    }

    public async Task UpdateAsync(Actor actor, long defectId, int expectedVersion, DefectForm form, CancellationToken ct = default)
    {
        await dbFactory.RequireCurrentAsync(actor, ct);
        Validate(form);
        await ChangeAsync(actor, defectId, expectedVersion, "edited", ct, async (db, d) =>
        {
            if (!actor.IsLead && actor.UserId != d.ReportedById && actor.UserId != d.OwnerId)
                throw PortalError.Forbidden("Only the reporter, the owner or a lead can edit a defect.");
            await CheckOwnerAsync(db, actor, d.OwnerId, form.OwnerId, ct);
            var environment = await CheckEvidenceAsync(db, d.ProjectId, form, ct);
            if (form.RunId != d.RunId) d.EnvironmentJson = environment;
            Apply(d, form);
            return $"edited defect “{d.Title}”";
        });
    }

    /// <summary>Anyone who may report takes a defect for themselves; a lead assigns it to anyone.</summary>
    public Task SetOwnerAsync(Actor actor, long defectId, int expectedVersion, string? ownerId, CancellationToken ct = default) =>
        ChangeAsync(actor, defectId, expectedVersion, "assigned", ct, async (db, d) =>
        {
            if (!actor.IsMember && !actor.IsLead) throw PortalError.Forbidden("Only members and leads can own defects.");
            await CheckOwnerAsync(db, actor, d.OwnerId, ownerId, ct);
            d.OwnerId = string.IsNullOrWhiteSpace(ownerId) ? null : ownerId;
            return d.OwnerId is null ? $"left defect “{d.Title}” without owner" : $"assigned defect “{d.Title}”";
        });

    public Task SetBlockingAsync(Actor actor, long defectId, int expectedVersion, bool blocking, CancellationToken ct = default) =>
        ChangeAsync(actor, defectId, expectedVersion, "changed", ct, (_, d) =>
        {
            actor.RequireLead("mark a defect blocking");
            d.IsBlocking = blocking;
            return Task.FromResult(blocking ? $"marked defect “{d.Title}” as blocking a release" : $"marked defect “{d.Title}” as not blocking");
        });

    public Task DiagnoseAsync(Actor actor, long defectId, int expectedVersion, string diagnosis, CancellationToken ct = default) =>
        ChangeAsync(actor, defectId, expectedVersion, "diagnosed", ct, (_, d) =>
        {
            RequireOwnerOrLead(actor, d, "diagnose");
            Move(d, DefectStatus.Open, DefectStatus.Diagnosed);
            if (d.OwnerId is null) throw PortalError.Validation("A diagnosed defect needs an owner. Assign one first.");
            d.Diagnosis = Required(diagnosis, "Say what the diagnosis is.");
            return Task.FromResult($"diagnosed defect “{d.Title}”");
        });

    public Task MarkFixedAsync(Actor actor, long defectId, int expectedVersion, string commit, CancellationToken ct = default) =>
        ChangeAsync(actor, defectId, expectedVersion, "fixed", ct, (_, d) =>
        {
            RequireOwnerOrLead(actor, d, "mark as fixed");
            Move(d, DefectStatus.Diagnosed, DefectStatus.Fixed);
            var c = Required(commit, "Name the commit that fixes the defect.");
            if (c.Length > DefectConfiguration.MaxCommitLength || !c.All(char.IsAsciiLetterOrDigit))
                throw PortalError.Validation($"“{c}” is not a commit id.");
            d.FixCommit = c;
            return Task.FromResult($"fixed defect “{d.Title}” in {c[..Math.Min(10, c.Length)]}");
        });

    /// <summary>Verifying a fix takes a succeeded run of the same project, other than the run that showed the defect.</summary>
    public Task VerifyAsync(Actor actor, long defectId, int expectedVersion, long verifyingRunId, CancellationToken ct = default) =>
        ChangeAsync(actor, defectId, expectedVersion, "verified", ct, async (db, d) =>
        {
            RequireOwnerOrLead(actor, d, "verify");
            Move(d, DefectStatus.Fixed, DefectStatus.Verified);
            var run = await db.Runs.AsNoTracking().FirstOrDefaultAsync(r => r.Id == verifyingRunId, ct)
                      ?? throw PortalError.Validation($"There is no run {verifyingRunId} to verify the fix with.");
            if (run.ProjectId != d.ProjectId)
                throw PortalError.Validation($"Run {verifyingRunId} belongs to another project; verify with a run of this project.");
            if (run.Status != RunStatus.Succeeded)
                throw PortalError.Validation($"Run {verifyingRunId} is {run.Status}; only a succeeded run verifies a fix.");
            if (run.Id == d.RunId)
                throw PortalError.Validation("The run that showed the defect cannot verify its fix.");
            d.VerifyingRunId = run.Id;
            d.ClosedAt = clock.GetUtcNow();
            return $"verified the fix of defect “{d.Title}” with run {run.Id}";
        });

    public Task WontFixAsync(Actor actor, long defectId, int expectedVersion, string reason, CancellationToken ct = default) =>
        ChangeAsync(actor, defectId, expectedVersion, "closed", ct, (_, d) =>
        {
            actor.RequireLead("decide that a defect won't be fixed");
            if (d.IsClosed) throw PortalError.Conflict($"“{d.Title}” is already {StatusName(d.Status)}.");
            d.WontFixReason = Required(reason, "Say why the defect won't be fixed.");
            d.Status = DefectStatus.WontFix;
            d.ClosedAt = clock.GetUtcNow();
            return Task.FromResult($"decided defect “{d.Title}” won't be fixed: {d.WontFixReason}");
        });

    /// <summary>A fix that did not hold, or a won't-fix decision taken back: the defect is open again, its fix evidence cleared.</summary>
    public Task ReopenAsync(Actor actor, long defectId, int expectedVersion, CancellationToken ct = default) =>
        ChangeAsync(actor, defectId, expectedVersion, "reopened", ct, (_, d) =>
        {
            actor.RequireLead("reopen a defect");
            if (d.Status == DefectStatus.Open) throw PortalError.Conflict($"“{d.Title}” is already open.");
            d.Status = DefectStatus.Open;
            d.FixCommit = null;
            d.VerifyingRunId = null;
            d.WontFixReason = null;
            d.ClosedAt = null;
            return Task.FromResult($"reopened defect “{d.Title}”");
        });

    public static string StatusName(DefectStatus status) => status switch
    {
        DefectStatus.WontFix => "Won't fix",
        _ => status.ToString(),
    };

    /// <summary>The leads of the sub-team that owns a component.</summary>
    public static SubTeam TeamOf(ModelComponent component) => component switch
    {
        ModelComponent.Loss => SubTeam.Loss,
        ModelComponent.DataPipeline => SubTeam.DataPipeline,
        ModelComponent.Infrastructure => SubTeam.DevOps,
        _ => SubTeam.Modeling,
    };

    private async Task ChangeAsync(Actor actor, long defectId, int expectedVersion, string verb, CancellationToken ct,
        Func<PortalDbContext, Defect, Task<string>> change)
    {
        await dbFactory.RequireCurrentAsync(actor, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var d = await db.Defects.FirstOrDefaultAsync(x => x.Id == defectId, ct)
                ?? throw PortalError.NotFound($"There is no defect {defectId}.");
        if (d.Version != expectedVersion)
            throw PortalError.Conflict($"“{d.Title}” was changed after you opened it. Reopen it to see the changes.");
        var text = await change(db, d);
        d.UpdatedAt = clock.GetUtcNow();
        d.Version++;
        activity.Add(db, d.ProjectId, actor.UserId, text, ActivityLinks.Defect(d.ProjectId, d.Id));
        var notified = await NotifyAsync(db, actor, d, $"Defect {verb}: “{d.Title}” ({StatusName(d.Status)})", ct);
        try { await db.SaveChangesAsync(ct); }
        catch (DbUpdateConcurrencyException)
        {
            throw PortalError.Conflict($"“{d.Title}” was changed by someone else while you saved. Reopen it and try again.");
        }
        Announce(d.ProjectId, notified);
    }

    private static void Move(Defect d, DefectStatus from, DefectStatus to)
    {
        if (d.Status != from)
            throw PortalError.Conflict($"“{d.Title}” is {StatusName(d.Status)}; only a defect that is {StatusName(from)} can become {StatusName(to)}.");
        d.Status = to;
    }

    private static void RequireOwnerOrLead(Actor actor, Defect d, string action)
    {
        if (!actor.IsLead && actor.UserId != d.OwnerId)
            throw PortalError.Forbidden($"Only the defect's owner or a lead can {action} it.");
    }

    private static string Required(string? text, string message)
    {
        var t = (text ?? "").Trim();
        if (t.Length == 0) throw PortalError.Validation(message);
        if (t.Length > DefectConfiguration.MaxTextLength)
            throw PortalError.Validation($"That text can be at most {DefectConfiguration.MaxTextLength:N0} characters.");
        return t;
    }

    private void Validate(DefectForm form)
    {
        form.Validate();
        var unsafeParts = markdown.FindUnsafeParts(form.Description);
        if (unsafeParts.Count > 0)
            throw PortalError.Validation($"The description contains {string.Join(", ", unsafeParts)}, which is not allowed. Remove it and save again.");
    }

    private static void Apply(Defect d, DefectForm f)
    {
        d.Title = f.Title.Trim();
        d.DescriptionMarkdown = f.Description ?? "";
        d.Component = f.Component;
        d.OwnerId = string.IsNullOrWhiteSpace(f.OwnerId) ? null : f.OwnerId;
        d.Reporter = f.Reporter;
        d.Manifestation = f.Manifestation;
        d.Stage = f.Stage;
        d.Impact = f.Impact;
        d.Type = f.Type;
        d.RootCause = f.RootCause;
        d.OtherText = f.UsesOther ? f.OtherText?.Trim() : null;
        d.RunId = f.RunId;
        d.FailingLayer = string.IsNullOrWhiteSpace(f.FailingLayer) ? null : f.FailingLayer.Trim();
        d.TaskId = f.TaskId;
        d.DesignDocumentId = f.DesignDocumentId;
        d.ChecklistItemId = f.ChecklistItemId;
        d.DiscrepancyId = f.DiscrepancyId;
    }

    private static async Task CheckOwnerAsync(PortalDbContext db, Actor actor, string? current, string? requested, CancellationToken ct)
    {
        var owner = string.IsNullOrWhiteSpace(requested) ? null : requested;
        if (owner == current) return;
        if (!actor.IsLead && owner != actor.UserId)
            throw PortalError.Forbidden("Only a lead can make someone else the owner of a defect.");
        if (owner is not null && !await db.Users.AnyAsync(u => u.Id == owner, ct))
            throw PortalError.Validation("The chosen owner is not a user of the portal.");
    }

    /// <summary>Every linked piece of evidence must exist in the same project; returns the run's environment record.</summary>
    private static async Task<string?> CheckEvidenceAsync(PortalDbContext db, long projectId, DefectForm f, CancellationToken ct)
    {
        string? environment = null;
        if (f.RunId is { } runId)
        {
            var run = await db.Runs.AsNoTracking().Where(r => r.Id == runId).Select(r => new { r.ProjectId, r.HardwareJson }).FirstOrDefaultAsync(ct);
            if (run is null || run.ProjectId != projectId) throw PortalError.Validation($"Run {runId} is not a run of this project.");
            environment = run.HardwareJson;
        }
        if (f.TaskId is { } taskId && !await db.Tasks.AnyAsync(t => t.Id == taskId && t.ProjectId == projectId, ct))
            throw PortalError.Validation($"Task {taskId} is not a task of this project.");
        if (f.DesignDocumentId is { } docId && !await db.DesignDocuments.AnyAsync(x => x.Id == docId && x.ProjectId == projectId, ct))
            throw PortalError.Validation($"Design document {docId} is not a document of this project.");
        if (f.ChecklistItemId is { } itemId && !await db.ChecklistItems.AnyAsync(x => x.Id == itemId && x.ProjectId == projectId, ct))
            throw PortalError.Validation($"Checklist item {itemId} is not an item of this project.");
        if (f.DiscrepancyId is { } discId && !await db.Discrepancies.AnyAsync(x => x.Id == discId && x.ProjectId == projectId, ct))
            throw PortalError.Validation($"Discrepancy {discId} is not a discrepancy of this project.");
        return environment;
    }

    /// <summary>The owner and the leads of the component's sub-team hear of every change (not the one who made it).</summary>
    private async Task<List<string>> NotifyAsync(PortalDbContext db, Actor actor, Defect d, string text, CancellationToken ct)
    {
        var team = TeamOf(d.Component);
        var leadRoleId = await db.Roles.Where(r => r.Name == Roles.Lead).Select(r => r.Id).FirstOrDefaultAsync(ct);
        var leads = await (from u in db.Users
                           join ur in db.UserRoles on u.Id equals ur.UserId
                           where ur.RoleId == leadRoleId && u.SubTeam == team
                           select u.Id).ToListAsync(ct);
        var recipients = leads.Append(d.OwnerId).OfType<string>().Distinct().Where(id => id != actor.UserId).ToList();
        var link = "/" + ActivityLinks.Defect(d.ProjectId, d.Id);
        foreach (var userId in recipients)
            inbox.Add(db, userId, actor.UserId, NotificationKind.Defect, text, link);
        return recipients;
    }

    private void Announce(long projectId, List<string> notified)
    {
        live.Publish(Topics.Project(projectId));
        if (notified.Count > 0) inbox.Announce(notified);
    }
}
