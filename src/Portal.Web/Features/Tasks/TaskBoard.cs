using Microsoft.EntityFrameworkCore;
using Portal.Web.Data;
using Portal.Web.Features.Account;
using Portal.Web.Features.Projects;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Tasks;

/// <summary>The board's filters. The sub-team filter selects the components that sub-team owns (see <see cref="TaskRules.ComponentsOf"/>).</summary>
public sealed record BoardFilter(
    bool MineOnly = false,
    ReproductionStage? Stage = null,
    ModelComponent? Component = null,
    SubTeam? SubTeam = null,
    ProjectTaskStatus? Status = null,
    string? Search = null);

public sealed record BoardRow(
    long Id, string Title, ReproductionStage Stage, ModelComponent Component, double? EstimateHours,
    ProjectTaskStatus Status, string? AssigneeId, string? AssigneeName, int Version);

public sealed record BoardView(
    long ProjectId, string ProjectName, int ClaimLimit, int HeldByMe, int TotalTasks,
    IReadOnlyDictionary<ProjectTaskStatus, int> CountByStatus, IReadOnlyList<BoardRow> Rows);

public sealed record TaskDetail(
    long Id, long ProjectId, string Title, string DescriptionMarkdown, string DescriptionHtml, ReproductionStage Stage,
    ModelComponent Component, double? EstimateHours, ProjectTaskStatus Status, string? AssigneeId, string? AssigneeName,
    DateTimeOffset UpdatedAt, int Version);

/// <summary>A task someone holds, with its project, for the page of one's tasks across projects.</summary>
public sealed record MyTask(long Id, long ProjectId, string ProjectName, string Title, ReproductionStage Stage, ModelComponent Component,
    ProjectTaskStatus Status, DateTimeOffset UpdatedAt);

/// <summary>A project with work open to claim, for the empty state of one's tasks.</summary>
public sealed record OpenWork(long ProjectId, string ProjectName, int OpenTasks);

public sealed record Assignable(string UserId, string DisplayName, SubTeam? SubTeam);

/// <summary>Reading the board: one query for the rows (assignee names joined in), one for the counts.</summary>
public sealed class TaskBoard(IDbContextFactory<PortalDbContext> dbFactory, MarkdownRenderer markdown)
{
    public const int MaxSearchLength = 200;

    public async Task<BoardView> GetAsync(Actor actor, long projectId, BoardFilter filter, CancellationToken cancellationToken = default)
    {
        if (filter.Search is { Length: > MaxSearchLength })
            throw PortalError.Validation($"A search may have at most {MaxSearchLength} characters.");
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var project = await db.Projects.AsNoTracking().Where(p => p.Id == projectId)
                          .Select(p => new { p.Name, p.ClaimLimitPerMember }).FirstOrDefaultAsync(cancellationToken)
                      ?? throw PortalError.NotFound($"There is no project {projectId}.");

        var counts = await db.Tasks.Where(t => t.ProjectId == projectId)
            .GroupBy(t => new { t.Status, Mine = t.AssigneeId == actor.UserId })
            .Select(g => new { g.Key.Status, g.Key.Mine, Count = g.Count() })
            .ToListAsync(cancellationToken);

        var tasks = db.Tasks.AsNoTracking().Where(t => t.ProjectId == projectId);
        if (filter.MineOnly) tasks = tasks.Where(t => t.AssigneeId == actor.UserId);
        if (filter.Stage is { } stage) tasks = tasks.Where(t => t.Stage == stage);
        if (filter.Component is { } component) tasks = tasks.Where(t => t.Component == component);
        if (filter.Status is { } status) tasks = tasks.Where(t => t.Status == status);
        if (filter.SubTeam is { } team)
        {
            var owned = TaskRules.ComponentsOf(team).ToList();
            tasks = tasks.Where(t => owned.Contains(t.Component));
        }
        if (!string.IsNullOrWhiteSpace(filter.Search))
        {
            var pattern = "%" + EscapeLike(filter.Search.Trim()) + "%";
            // SQLite's LIKE ignores ASCII case; PostgreSQL's does not, its ILIKE does.
            tasks = db.Database.IsNpgsql()
                ? tasks.Where(t => EF.Functions.ILike(t.Title, pattern, "\\") || EF.Functions.ILike(t.DescriptionMarkdown, pattern, "\\"))
                : tasks.Where(t => EF.Functions.Like(t.Title, pattern, "\\") || EF.Functions.Like(t.DescriptionMarkdown, pattern, "\\"));
        }

        var rows = await (
                from t in tasks
                join u in db.Users on t.AssigneeId equals u.Id into users
                from u in users.DefaultIfEmpty()
                // Not by status: a row that changes status keeps its place under the reader's eyes.
                orderby t.Stage, t.Component, t.Id
                select new BoardRow(t.Id, t.Title, t.Stage, t.Component, t.EstimateHours, t.Status, t.AssigneeId,
                    u == null ? null : u.DisplayName, t.Version))
            .ToListAsync(cancellationToken);

        var byStatus = Enum.GetValues<ProjectTaskStatus>().ToDictionary(s => s, s => counts.Where(c => c.Status == s).Sum(c => c.Count));
        var held = counts.Where(c => c.Mine && c.Status is ProjectTaskStatus.Claimed or ProjectTaskStatus.InReview).Sum(c => c.Count);
        return new BoardView(projectId, project.Name, project.ClaimLimitPerMember, held, byStatus.Values.Sum(), byStatus, rows);
    }

    public async Task<TaskDetail> GetTaskAsync(long taskId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var row = await (
                from x in db.Tasks.AsNoTracking()
                where x.Id == taskId
                join u in db.Users on x.AssigneeId equals u.Id into users
                from u in users.DefaultIfEmpty()
                select new { Task = x, AssigneeName = u == null ? null : u.DisplayName })
            .FirstOrDefaultAsync(cancellationToken) ?? throw PortalError.NotFound($"There is no task {taskId}.");
        var t = row.Task;
        return new TaskDetail(t.Id, t.ProjectId, t.Title, t.DescriptionMarkdown, markdown.ToSafeHtml(t.DescriptionMarkdown), t.Stage,
            t.Component, t.EstimateHours, t.Status, t.AssigneeId, row.AssigneeName, t.UpdatedAt, t.Version);
    }

    /// <summary>The tasks the user holds in every project, not yet done; a read, so it takes the id rather than an acting user.</summary>
    public async Task<IReadOnlyList<MyTask>> MineAsync(string userId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await (
                from t in db.Tasks.AsNoTracking()
                where t.AssigneeId == userId && t.Status != ProjectTaskStatus.Done
                join p in db.Projects on t.ProjectId equals p.Id
                orderby p.Name, t.Status, t.Stage, t.Id
                select new MyTask(t.Id, p.Id, p.Name, t.Title, t.Stage, t.Component, t.Status, t.UpdatedAt))
            .ToListAsync(cancellationToken);
    }

    /// <summary>Projects with open tasks, most open work first.</summary>
    public async Task<IReadOnlyList<OpenWork>> OpenWorkAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var counts = await db.Tasks.AsNoTracking().Where(t => t.Status == ProjectTaskStatus.Open)
            .GroupBy(t => t.ProjectId).Select(g => new { ProjectId = g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        var ids = counts.Select(c => c.ProjectId).ToList();
        var names = await db.Projects.AsNoTracking().Where(p => ids.Contains(p.Id)).ToDictionaryAsync(p => p.Id, p => p.Name, cancellationToken);
        return counts.Select(c => new OpenWork(c.ProjectId, names[c.ProjectId], c.Count)).OrderByDescending(w => w.OpenTasks).ThenBy(w => w.ProjectName).ToList();
    }

    /// <summary>Active members and leads, whom a lead can assign work to.</summary>
    public async Task<IReadOnlyList<Assignable>> AssignableAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var roleIds = db.Roles.Where(r => r.Name == Roles.Member || r.Name == Roles.Lead).Select(r => r.Id);
        return await db.Users.AsNoTracking()
            .Where(u => u.IsActive && db.UserRoles.Any(ur => ur.UserId == u.Id && roleIds.Contains(ur.RoleId)))
            .OrderBy(u => u.DisplayName)
            .Select(u => new Assignable(u.Id, u.DisplayName, u.SubTeam))
            .ToListAsync(cancellationToken);
    }

    private static string EscapeLike(string text) =>
        text.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_");
}
