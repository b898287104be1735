using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Portal.Web.Data;
using Portal.Web.Features.Account;
using Portal.Web.Features.Activity;
using Portal.Web.Features.Inbox;
using Portal.Web.Features.Projects;
using Portal.Web.Features.Tasks;
using Portal.Web.Infrastructure;

namespace Portal.Web.Tests.Tasks;

/// <summary>
/// A real SQLite file (WAL, like the app) with a small team and one project, and the board's services wired
/// to it as the app wires them. Each test gets its own file.
/// </summary>
public sealed class BoardDatabase : IDbContextFactory<PortalDbContext>, IAsyncDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "portal-board-tests", Guid.NewGuid().ToString("N"));
    private readonly DbContextOptions<PortalDbContext> _options;

    public LiveUpdates Live { get; } = new(NullLogger<LiveUpdates>.Instance);
    public MarkdownRenderer Markdown { get; } = new();
    public TimeProvider Clock { get; } = TimeProvider.System;
    public ActivityLog Activity { get; }
    public InboxNotifier Inbox { get; }
    public TaskClaims Claims { get; }
    public TaskEditing Editing { get; }
    public TaskBoard Board { get; }
    public ProjectEditing Projects { get; }

    public long ProjectId { get; private set; }
    public Actor Lead { get; private set; } = default!;
    public Actor Mentor { get; private set; } = default!;
    public Actor Admin { get; private set; } = default!;
    public List<Actor> Members { get; } = [];

    private BoardDatabase()
    {
        Directory.CreateDirectory(_folder);
        _options = new DbContextOptionsBuilder<PortalDbContext>()
            .UseSqlite($"Data Source={Path.Combine(_folder, "portal.db")};Default Timeout=30").Options;
        Activity = new ActivityLog(Clock);
        Inbox = new InboxNotifier(Live, Clock);
        Claims = new TaskClaims(this, Activity, Inbox, Live, Clock);
        Editing = new TaskEditing(this, Activity, Live, Markdown, Clock);
        Board = new TaskBoard(this, Markdown);
        Projects = new ProjectEditing(this, Activity, Live, Clock);
    }

    public static async Task<BoardDatabase> CreateAsync(int members = 4, int claimLimit = 3)
    {
        var database = new BoardDatabase();
        await PortalDatabase.InitializeAsync(database);
        await database.SeedAsync(members, claimLimit);
        return database;
    }

    public PortalDbContext CreateDbContext() => new(_options);

    private async Task SeedAsync(int members, int claimLimit)
    {
        await using var db = CreateDbContext();
        var roles = Roles.All.ToDictionary(r => r, r => new Microsoft.AspNetCore.Identity.IdentityRole(r) { NormalizedName = r.ToUpperInvariant() });
        db.Roles.AddRange(roles.Values);

        Actor Add(string userName, SubTeam? team, params string[] userRoles)
        {
            var user = new PortalUser { UserName = userName, NormalizedUserName = userName.ToUpperInvariant(), DisplayName = $"{userName} (test)", SubTeam = team };
            db.Users.Add(user);
            foreach (var role in userRoles)
                db.UserRoles.Add(new Microsoft.AspNetCore.Identity.IdentityUserRole<string> { UserId = user.Id, RoleId = roles[role].Id });
            return new Actor(user.Id, user.DisplayName, userRoles.ToHashSet());
        }

        Lead = Add("lead", SubTeam.Modeling, Roles.Lead);
        Mentor = Add("mentor", null, Roles.Mentor);
        Admin = Add("admin", null, Roles.Admin);
        for (var i = 1; i <= members; i++) Members.Add(Add($"member{i}", (SubTeam)(i % 4), Roles.Member));

        var project = new Project
        {
            Name = "YOLOv4", PaperTitle = "YOLOv4: Optimal Speed and Accuracy of Object Detection", PaperYear = 2020,
            Stage = ReproductionStage.PaperAnalysis, ClaimLimitPerMember = claimLimit, CreatedAt = Clock.GetUtcNow(),
        };
        db.Projects.Add(project);
        await db.SaveChangesAsync();
        ProjectId = project.Id;
    }

    public async Task<long> AddTaskAsync(string title = "Checklist: dataset and augmentation", ModelComponent component = ModelComponent.DataPipeline,
        ProjectTaskStatus status = ProjectTaskStatus.Open, string? assigneeId = null, string description = "")
    {
        await using var db = CreateDbContext();
        var task = new ProjectTask
        {
            ProjectId = ProjectId, Title = title, Component = component, Stage = ReproductionStage.PaperAnalysis, Status = status,
            AssigneeId = assigneeId, DescriptionMarkdown = description, CreatedAt = Clock.GetUtcNow(), UpdatedAt = Clock.GetUtcNow(),
        };
        db.Tasks.Add(task);
        await db.SaveChangesAsync();
        return task.Id;
    }

    public async Task<ProjectTask> TaskAsync(long id)
    {
        await using var db = CreateDbContext();
        return await db.Tasks.AsNoTracking().SingleAsync(t => t.Id == id);
    }

    public async Task<T> QueryAsync<T>(Func<PortalDbContext, Task<T>> query)
    {
        await using var db = CreateDbContext();
        return await query(db);
    }

    public ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
        return ValueTask.CompletedTask;
    }
}
