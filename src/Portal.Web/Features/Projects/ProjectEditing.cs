using Microsoft.EntityFrameworkCore;
using Portal.Web.Data;
using Portal.Web.Features.Activity;
using Portal.Web.Features.Analysis;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Projects;

/// <summary>
/// Leads create and edit projects and move them through the stages. Every change names the project version
/// it was made against, so a stale form or a double click cannot overwrite someone else's change.
/// </summary>
public sealed class ProjectEditing(
    IDbContextFactory<PortalDbContext> dbFactory, ActivityLog activity, LiveUpdates live, TimeProvider clock)
{
    public const int MaxReasonLength = 1000;

    public async Task<long> CreateAsync(Actor actor, ProjectForm form, CancellationToken cancellationToken = default)
    {
        actor = await dbFactory.RefreshAsync(actor, cancellationToken);
        actor.RequireLead("create projects");
        form.Validate();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var name = form.Name.Trim();
        if (await db.Projects.AnyAsync(p => p.Name == name, cancellationToken))
            throw PortalError.Conflict($"There is already a project named {name}.");
        var project = new Project { CreatedAt = clock.GetUtcNow() };
        Apply(form, project);
        // The activity entry needs the project's id, so two saves; one transaction keeps them a single change.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        db.Projects.Add(project);
        await db.SaveChangesAsync(cancellationToken);
        activity.Add(db, project.Id, actor.UserId, $"created the project {project.Name}", ActivityLinks.Project(project.Id));
        // Every reproduction starts its paper analysis from the three checklists.
        await ChecklistTemplate.AddToProjectAsync(db, project.Id, clock.GetUtcNow(), cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        live.Publish(Topics.Projects, Topics.Project(project.Id));
        return project.Id;
    }

    public async Task UpdateAsync(Actor actor, long projectId, int expectedVersion, ProjectForm form, CancellationToken cancellationToken = default)
    {
        actor = await dbFactory.RefreshAsync(actor, cancellationToken);
        actor.RequireLead("edit projects");
        form.Validate();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var project = await LoadAsync(db, projectId, expectedVersion, cancellationToken, withDetails: true);
        var name = form.Name.Trim();
        if (await db.Projects.AnyAsync(p => p.Name == name && p.Id != projectId, cancellationToken))
            throw PortalError.Conflict($"There is already a project named {name}.");
        db.PaperClaims.RemoveRange(project.Claims);
        db.ReferenceImplementations.RemoveRange(project.References);
        project.Claims.Clear();
        project.References.Clear();
        Apply(form, project);
        project.Version++;
        activity.Add(db, projectId, actor.UserId, "edited the project's paper, claims and settings", ActivityLinks.Project(projectId));
        await SaveAsync(db, cancellationToken);
        live.Publish(Topics.Projects, Topics.Project(projectId));
    }

    /// <summary>Moves the project one stage forward.</summary>
    /// <summary>Sets only the tolerance, the one setting the reproducibility dashboard edits.</summary>
    public async Task SetToleranceAsync(Actor actor, long projectId, double tolerance, CancellationToken cancellationToken = default)
    {
        actor = await dbFactory.RefreshAsync(actor, cancellationToken);
        actor.RequireLead("change a project's tolerance");
        ProjectForm.ValidateTolerance(tolerance);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var project = await db.Projects.FirstOrDefaultAsync(p => p.Id == projectId, cancellationToken)
                      ?? throw PortalError.NotFound($"There is no project {projectId}.");
        project.Tolerance = tolerance;
        project.Version++;
        activity.Add(db, projectId, actor.UserId, $"set the tolerance to ±{tolerance:0.##} points");
        await SaveAsync(db, cancellationToken);
        live.Publish(Topics.Projects, Topics.Project(projectId));
    }

    public async Task AdvanceAsync(Actor actor, long projectId, int expectedVersion, CancellationToken cancellationToken = default)
    {
        actor = await dbFactory.RefreshAsync(actor, cancellationToken);
        actor.RequireLead("advance a project's stage");
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var project = await LoadAsync(db, projectId, expectedVersion, cancellationToken);
        if (project.Stage == ReproductionStage.Release)
            throw PortalError.Conflict($"{project.Name} is already at the last stage.");
        await MoveAsync(db, actor, project, project.Stage + 1, null, cancellationToken);
    }

    /// <summary>Sends the project back to an earlier stage; the reason is kept in the history.</summary>
    public async Task SendBackAsync(Actor actor, long projectId, int expectedVersion, ReproductionStage to, string reason, CancellationToken cancellationToken = default)
    {
        actor = await dbFactory.RefreshAsync(actor, cancellationToken);
        actor.RequireLead("send a project back");
        if (string.IsNullOrWhiteSpace(reason)) throw PortalError.Validation("Say why the project goes back: the team reads it in the history.");
        if (reason.Length > MaxReasonLength) throw PortalError.Validation($"A reason may have at most {MaxReasonLength} characters.");
        if (!Enum.IsDefined(to)) throw PortalError.Validation("Choose one of the nine stages.");
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var project = await LoadAsync(db, projectId, expectedVersion, cancellationToken);
        if (to >= project.Stage)
            throw PortalError.Validation($"Sending back goes to an earlier stage than {project.Stage.Label()}.");
        await MoveAsync(db, actor, project, to, reason.Trim(), cancellationToken);
    }

    private async Task MoveAsync(PortalDbContext db, Actor actor, Project project, ReproductionStage to, string? reason, CancellationToken cancellationToken)
    {
        db.StageTransitions.Add(new StageTransition
        {
            ProjectId = project.Id, From = project.Stage, To = to, Reason = reason, ByUserId = actor.UserId, At = clock.GetUtcNow(),
        });
        activity.Add(db, project.Id, actor.UserId, reason is null
            ? $"advanced the project from {project.Stage.Label()} to {to.Label()}"
            : $"sent the project back from {project.Stage.Label()} to {to.Label()}: {reason}");
        project.Stage = to;
        project.Version++;
        await SaveAsync(db, cancellationToken);
        live.Publish(Topics.Projects, Topics.Project(project.Id));
    }

    private static async Task<Project> LoadAsync(PortalDbContext db, long projectId, int expectedVersion, CancellationToken cancellationToken, bool withDetails = false)
    {
        var query = db.Projects.AsQueryable();
        if (withDetails) query = query.Include(p => p.Claims).Include(p => p.References);
        var project = await query.FirstOrDefaultAsync(p => p.Id == projectId, cancellationToken)
                      ?? throw PortalError.NotFound($"There is no project {projectId}.");
        if (project.Version != expectedVersion)
            throw PortalError.Conflict($"{project.Name} was changed after you opened it. Look at it again, then retry.");
        return project;
    }

    private static async Task SaveAsync(PortalDbContext db, CancellationToken cancellationToken)
    {
        try { await db.SaveChangesAsync(cancellationToken); }
        catch (DbUpdateConcurrencyException)
        {
            throw PortalError.Conflict("The project was changed by someone else at the same moment. Look at it again, then retry.");
        }
    }

    private static void Apply(ProjectForm form, Project project)
    {
        project.Name = form.Name.Trim();
        project.Summary = form.Summary?.Trim() ?? "";
        project.PaperTitle = form.PaperTitle.Trim();
        project.PaperAuthors = form.PaperAuthors?.Trim() ?? "";
        project.PaperYear = form.PaperYear;
        project.PaperUrl = form.PaperUrl?.Trim() ?? "";
        project.Tolerance = form.Tolerance;
        project.ClaimLimitPerMember = form.ClaimLimitPerMember;
        project.LostRunRestarts = form.LostRunRestarts;
        project.Claims.AddRange(form.Claims.Select(c => new PaperClaim
        {
            Metric = c.Metric.Trim(), Dataset = c.Dataset.Trim(), Split = c.Split.Trim(), Value = c.Value, Source = c.Source.Trim(),
        }));
        project.References.AddRange(form.References.Select(r => new ReferenceImplementation
        {
            RepositoryUrl = r.RepositoryUrl.Trim(), Framework = r.Framework.Trim(), WeightsUrl = r.WeightsUrl?.Trim() ?? "",
        }));
    }
}
