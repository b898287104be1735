using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Testing;
using Portal.Web.Features.Account;
using Portal.Web.Features.Admin;
using Portal.Web.Features.Projects;
using Portal.Web.Features.Tasks;
using Portal.Web.Infrastructure;

namespace Portal.Web.Tests.Tasks;

/// <summary>
/// Every change this feature offers, tried by every role, through the services of a real server with actors made
/// from the demo accounts' real Identity principals. An action a role may not take is refused and writes nothing.
/// </summary>
public sealed class RoleMatrixTests : IClassFixture<RoleMatrixTests.Fixture>
{
    public sealed class Fixture : PortalAppFactory
    {
        private readonly Dictionary<string, Actor> _actors = [];
        private readonly SemaphoreSlim _lock = new(1, 1);

        /// <summary>The demo team has no admin without other roles, so the fixture creates one (through the admin service).</summary>
        public async Task<Actor> ActorAsync(string role)
        {
            _ = ServerAddress;
            await _lock.WaitAsync();
            try
            {
                if (_actors.TryGetValue(role, out var known)) return known;
                var userName = role switch
                {
                    "member" => "member7", "lead" => "lead.loss", "mentor" => "mentor3", "tech lead" => "techlead", _ => "admin.only",
                };
                if (userName == "admin.only")
                {
                    using var setup = Services.CreateScope();
                    await setup.ServiceProvider.GetRequiredService<UserAdministration>().CreateAsync(await ActorAsyncUnlocked("tech lead"),
                        new NewUserForm { UserName = userName, DisplayName = "Ada Admin", Password = "Admin!2026x", Roles = [Roles.Admin] });
                }
                return _actors[role] = await ActorFromIdentityAsync(userName);
            }
            finally { _lock.Release(); }
        }

        private async Task<Actor> ActorAsyncUnlocked(string role) =>
            _actors.TryGetValue(role, out var a) ? a : _actors[role] = await ActorFromIdentityAsync("techlead");

        private async Task<Actor> ActorFromIdentityAsync(string userName)
        {
            using var scope = Services.CreateScope();
            var signIn = scope.ServiceProvider.GetRequiredService<SignInManager<PortalUser>>();
            var user = await signIn.UserManager.FindByNameAsync(userName) ?? throw new InvalidOperationException(userName);
            return Actor.From(await signIn.CreateUserPrincipalAsync(user));
        }
    }

    private readonly Fixture _app;
    public RoleMatrixTests(Fixture app) => _app = app;

    private sealed record Context(IServiceProvider Services, Actor TechLead, long ProjectId, long TaskId, string UserId, int Version);

    /// <summary>Each action: what to set up (as the tech lead) and the change the role under test attempts.</summary>
    private static readonly Dictionary<string, (Func<Context, Task<Context>> Setup, Func<Context, Actor, Task> Act)> Actions = new()
    {
        ["claim an open task"] = (c => Task.FromResult(c), (c, a) => Svc<TaskClaims>(c).ClaimAsync(a, c.TaskId)),
        ["unclaim someone else's task"] = (ClaimedByMember, (c, a) => Svc<TaskClaims>(c).UnclaimAsync(a, c.TaskId)),
        ["send someone else's task to review"] = (ClaimedByMember, (c, a) => Svc<TaskClaims>(c).SubmitForReviewAsync(a, c.TaskId)),
        ["mark a task in review done"] = (InReview, (c, a) => Svc<TaskClaims>(c).CompleteAsync(a, c.TaskId)),
        ["assign a task"] = (c => Task.FromResult(c), (c, a) => Svc<TaskClaims>(c).AssignAsync(a, c.TaskId, c.UserId)),
        ["create a task"] = (c => Task.FromResult(c), (c, a) => Svc<TaskEditing>(c).CreateAsync(a, c.ProjectId, new TaskForm { Title = "New analysis item" })),
        ["edit a task"] = (c => Task.FromResult(c), (c, a) => Svc<TaskEditing>(c).UpdateAsync(a, c.TaskId, 0, new TaskForm { Title = "Renamed" })),
        ["create a project"] = (c => Task.FromResult(c), (c, a) => Svc<ProjectEditing>(c).CreateAsync(a, ProjectFormFor($"P-{Guid.NewGuid():N}"))),
        ["edit a project"] = (c => Task.FromResult(c), (c, a) => Svc<ProjectEditing>(c).UpdateAsync(a, c.ProjectId, 0, ProjectFormFor($"P-{Guid.NewGuid():N}"))),
        ["advance a project's stage"] = (c => Task.FromResult(c), (c, a) => Svc<ProjectEditing>(c).AdvanceAsync(a, c.ProjectId, 0)),
        ["send a project back"] = (Advanced, (c, a) => Svc<ProjectEditing>(c).SendBackAsync(a, c.ProjectId, 1, ReproductionStage.ModelSelection, "Claims were on the wrong split")),
        ["list users"] = (c => Task.FromResult(c), (c, a) => Svc<UserAdministration>(c).ListAsync(a)),
        ["create a user"] = (c => Task.FromResult(c), (c, a) => Svc<UserAdministration>(c).CreateAsync(a, new NewUserForm { UserName = $"u{Guid.NewGuid():N}", DisplayName = "New person", Password = "Welcome!2026x" })),
        ["deactivate a user"] = (c => Task.FromResult(c), (c, a) => Svc<UserAdministration>(c).SetActiveAsync(a, c.UserId, false)),
        ["change a user's roles"] = (c => Task.FromResult(c), (c, a) => Svc<UserAdministration>(c).SetRolesAsync(a, c.UserId, [Roles.Member, Roles.Lead])),
        ["change a user's sub-team"] = (c => Task.FromResult(c), (c, a) => Svc<UserAdministration>(c).SetSubTeamAsync(a, c.UserId, SubTeam.Loss)),
    };

    private static readonly string[] LeadActions =
    [
        "claim an open task", "unclaim someone else's task", "send someone else's task to review", "mark a task in review done", "assign a task",
        "create a task", "edit a task", "create a project", "edit a project", "advance a project's stage", "send a project back",
    ];

    private static bool Allowed(string role, string action) => role switch
    {
        "member" => action == "claim an open task",
        "lead" => LeadActions.Contains(action),
        "admin" => action.Contains("user"),
        _ => false,
    };

    public static TheoryData<string, string, bool> Matrix()
    {
        var data = new TheoryData<string, string, bool>();
        foreach (var action in Actions.Keys)
            foreach (var role in new[] { "member", "lead", "mentor", "admin" })
                data.Add(role, action, Allowed(role, action));
        return data;
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task Each_role_may_take_exactly_its_actions(string role, string action, bool allowed)
    {
        var actor = await _app.ActorAsync(role);
        var context = await FreshContextAsync();
        var (setup, act) = Actions[action];
        context = await setup(context);
        var before = await SnapshotAsync(context);

        var error = await Record.ExceptionAsync(() => act(context, actor));

        if (allowed)
        {
            Assert.Null(error);
            return;
        }
        var refusal = Assert.IsType<PortalError>(error);
        Assert.Equal(PortalErrorKind.Forbidden, refusal.Kind);
        Assert.Equal(before, await SnapshotAsync(context));
    }

    /// <summary>A new project with one open task and a new member, so that no case depends on another.</summary>
    private async Task<Context> FreshContextAsync()
    {
        var techLead = await _app.ActorAsync("tech lead");
        using var scope = _app.Services.CreateScope();
        var services = scope.ServiceProvider;
        var projectId = await services.GetRequiredService<ProjectEditing>().CreateAsync(techLead, ProjectFormFor($"Matrix {Guid.NewGuid():N}"));
        var taskId = await services.GetRequiredService<TaskEditing>().CreateAsync(techLead, projectId, new TaskForm { Title = "Checklist: general" });
        var userId = await services.GetRequiredService<UserAdministration>().CreateAsync(techLead,
            new NewUserForm { UserName = $"m{Guid.NewGuid():N}", DisplayName = "Matrix member", Password = "Member!2026x" });
        return new Context(_app.Services, techLead, projectId, taskId, userId, 0);
    }

    private static async Task<Context> ClaimedByMember(Context c)
    {
        await Svc<TaskClaims>(c).AssignAsync(c.TechLead, c.TaskId, c.UserId);
        return c;
    }

    private static async Task<Context> InReview(Context c)
    {
        await ClaimedByMember(c);
        await Svc<TaskClaims>(c).SubmitForReviewAsync(c.TechLead, c.TaskId);
        return c;
    }

    private static async Task<Context> Advanced(Context c)
    {
        await Svc<ProjectEditing>(c).AdvanceAsync(c.TechLead, c.ProjectId, 0);
        return c;
    }

    /// <summary>The feature services are scoped; the scope is left to the GC because each test case is short-lived.</summary>
    private static T Svc<T>(Context c) where T : notnull => c.Services.CreateScope().ServiceProvider.GetRequiredService<T>();

    private async Task<string> SnapshotAsync(Context c) => await _app.WithDbAsync(async db =>
    {
        var task = await db.Tasks.AsNoTracking().SingleAsync(t => t.Id == c.TaskId);
        var project = await db.Projects.AsNoTracking().SingleAsync(p => p.Id == c.ProjectId);
        var user = await db.Users.AsNoTracking().SingleAsync(u => u.Id == c.UserId);
        var roles = await db.UserRoles.CountAsync(r => r.UserId == c.UserId);
        return $"{task.Title}|{task.Status}|{task.AssigneeId}|{task.Version}|{project.Name}|{project.Stage}|{project.Version}|" +
               $"{user.IsActive}|{user.SubTeam}|{roles}|{await db.Users.CountAsync()}|{await db.Projects.CountAsync()}|{await db.Tasks.CountAsync()}|{await db.Activity.CountAsync()}";
    });

    private static ProjectForm ProjectFormFor(string name) => new()
    {
        Name = name, PaperTitle = "YOLOv4: Optimal Speed and Accuracy of Object Detection", PaperYear = 2020,
        Claims = [new() { Metric = "AP", Dataset = "COCO", Split = "test-dev", Value = 43.0, Source = "Table 8" }],
    };
}
