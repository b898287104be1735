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
using Portal.Web.Tests.Testing;

namespace Portal.Web.Tests.Tasks;

/// <summary>
/// The portal's services over a fresh database (<see cref="PortalTestHost"/>) with a small team and one project.
/// </summary>
public sealed class BoardDatabase : PortalTestHost
{
    public ActivityLog Activity => Get<ActivityLog>();
    public TaskClaims Claims => Get<TaskClaims>();
    public TaskEditing Editing => Get<TaskEditing>();
    public TaskBoard Board => Get<TaskBoard>();
    public ProjectEditing Projects => Get<ProjectEditing>();

    public long ProjectId { get; private set; }
    public Actor Lead { get; private set; } = default!;
    public Actor Mentor { get; private set; } = default!;
    public Actor Admin { get; private set; } = default!;
    public List<Actor> Members { get; } = [];

    public static async Task<BoardDatabase> CreateAsync(int members = 4, int claimLimit = 3)
    {
        var database = new BoardDatabase();
        await database.SeedAsync(members, claimLimit);
        return database;
    }

    private async Task SeedAsync(int members, int claimLimit)
    {
        await using var db = CreateDbContext();
        var roles = await db.Roles.ToDictionaryAsync(r => r.Name!);

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
}
