using System.Security.Claims;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Testing;
using Portal.Web.Features.Account;
using Portal.Web.Features.Admin;
using Portal.Web.Features.Agents;
using Portal.Web.Features.Analysis;
using Portal.Web.Features.Api;
using Portal.Web.Features.Curves;
using Portal.Web.Features.Defects;
using Portal.Web.Features.Design;
using Portal.Web.Features.Inbox;
using Portal.Web.Features.Projects;
using Portal.Web.Features.Releases;
using Portal.Web.Features.Runs;
using Portal.Web.Features.Tasks;
using Portal.Web.Infrastructure;

namespace Portal.Web.Tests.Security;

/// <summary>
/// Who may make which change: every change the feature services offer (found by reflection, as in
/// <see cref="EveryChangeRefusesAStaleActorTests"/>), tried by a member, a lead, a mentor, an admin, a user with no
/// role and an anonymous caller, on a running portal over its SQLite file. <see cref="Spec"/> is the rule, written
/// out: a change it does not list fails the test, so a new change has to be classified. Each cell sets up what that
/// role would need to make the change for real (its own run, its own document, a review requested of it) and then
/// makes it; a role outside the rule is refused with the permission error.
/// </summary>
public sealed class RoleByActionTests : IClassFixture<RoleByActionTests.Fixture>
{
    private const string Member = "member", Lead = "lead", Mentor = "mentor", Admin = "admin", NoRole = "no role", Anonymous = "anonymous";
    private static readonly string[] Everyone = [Member, Lead, Mentor, Admin, NoRole, Anonymous];

    /// <summary>The spec: which roles may make each change. Anonymous may make none.</summary>
    private static readonly Dictionary<string, string[]> Spec = new()
    {
        ["ProjectEditing.CreateAsync"] = [Lead],
        ["ProjectEditing.UpdateAsync"] = [Lead],
        ["ProjectEditing.SetToleranceAsync"] = [Lead],
        ["ProjectEditing.AdvanceAsync"] = [Lead],
        ["ProjectEditing.SendBackAsync"] = [Lead],
        ["TaskEditing.CreateAsync"] = [Lead],
        ["TaskEditing.UpdateAsync"] = [Lead],
        ["TaskClaims.ClaimAsync"] = [Member, Lead],
        ["TaskClaims.AssignAsync"] = [Lead],
        ["TaskClaims.UnclaimAsync"] = [Member, Lead],
        ["TaskClaims.SubmitForReviewAsync"] = [Member, Lead],
        ["TaskClaims.CompleteAsync"] = [Lead],
        // Comments on tasks are open to every active account, as design threads are; only the author removes one.
        ["TaskComments.AddAsync"] = [Member, Lead, Mentor, Admin, NoRole],
        ["TaskComments.DeleteAsync"] = [Member, Lead, Mentor, Admin, NoRole],
        ["UserAdministration.CreateAsync"] = [Admin],
        ["UserAdministration.SetActiveAsync"] = [Admin],
        ["UserAdministration.SetRolesAsync"] = [Admin],
        ["UserAdministration.SetSubTeamAsync"] = [Admin],
        ["AgentTokenService.CreateAsync"] = [Admin],
        ["AgentTokenService.RevokeAsync"] = [Admin],
        // A personal token acts with its owner's own roles, so every active account may hold one and revoke its own.
        ["PersonalTokenService.CreateAsync"] = [Member, Lead, Mentor, Admin, NoRole],
        ["PersonalTokenService.RevokeAsync"] = [Member, Lead, Mentor, Admin, NoRole],
        ["ReleaseService.CreateAsync"] = [Lead],
        ["ReleaseService.UpdateAsync"] = [Lead],
        ["ReleaseService.ChooseRunsAsync"] = [Lead],
        ["ReleaseService.SaveModelCardAsync"] = [Lead],
        ["ReleaseService.PrefillModelCardAsync"] = [Lead],
        ["ReleaseService.CommentAsync"] = [Lead, Mentor],
        ["ReleaseSignOff.ApproveAsync"] = [Lead],
        ["ReleaseSignOff.RejectAsync"] = [Lead],
        ["ReleasePublisher.PublishAsync"] = [Lead],
        // Re-reads the actor before a release page acts: any active account passes, a stale or unknown one does not.
        ["ReleaseChanges.RefreshAsync"] = [Member, Lead, Mentor, Admin, NoRole],
        ["RunService.StartAsync"] = [Member, Lead],
        // The person who started the run (only members and leads start runs) or a lead.
        ["RunService.CancelAsync"] = [Member, Lead],
        ["RunService.ResumeAsync"] = [Member, Lead],
        ["RunAnnotations.AddAsync"] = [Lead, Mentor],
        ["RunAnnotations.SetStateAsync"] = [Lead, Mentor],
        // Paper analysis, design documents and their threads are open to every active account: the whole team
        // (mentors included) records what the paper and the reference code say; only decisions are the leads'.
        ["AnalysisLogService.RaiseDiscrepancyAsync"] = [Member, Lead, Mentor, Admin, NoRole],
        ["AnalysisLogService.DecideAsync"] = [Lead],
        ["AnalysisLogService.AskAsync"] = [Member, Lead, Mentor, Admin, NoRole],
        ["AnalysisLogService.MarkSentAsync"] = [Member, Lead, Mentor, Admin, NoRole],
        ["AnalysisLogService.RecordAnswerAsync"] = [Member, Lead, Mentor, Admin, NoRole],
        ["ChecklistService.AnswerAsync"] = [Member, Lead, Mentor, Admin, NoRole],
        ["ChecklistService.SetOwnerAsync"] = [Member, Lead, Mentor, Admin, NoRole],
        ["ChecklistService.MakeTaskAsync"] = [Member, Lead, Mentor, Admin, NoRole],
        ["SpecificationService.SetHyperparameterAsync"] = [Member, Lead, Mentor, Admin, NoRole],
        ["SpecificationService.AddContractFieldAsync"] = [Member, Lead, Mentor, Admin, NoRole],
        ["SpecificationService.RemoveContractFieldAsync"] = [Member, Lead, Mentor, Admin, NoRole],
        ["DesignDocumentService.CreateAsync"] = [Member, Lead, Mentor, Admin, NoRole],
        ["DesignDocumentService.PostVersionAsync"] = [Member, Lead, Mentor, Admin, NoRole],
        ["DesignReviewService.RequestReviewAsync"] = [Member, Lead, Mentor, Admin, NoRole],
        // Only mentors and leads can be asked to review, so only they give verdicts.
        ["DesignReviewService.GiveVerdictAsync"] = [Lead, Mentor],
        ["DesignReviewService.StartThreadAsync"] = [Member, Lead, Mentor, Admin, NoRole],
        ["DesignReviewService.ReplyAsync"] = [Member, Lead, Mentor, Admin, NoRole],
        ["DesignReviewService.DeleteThreadAsync"] = [Member, Lead, Mentor, Admin, NoRole],
        // The thread's author or the document's author (every role can be either) or a lead.
        ["DesignReviewService.ResolveThreadAsync"] = [Member, Lead, Mentor, Admin, NoRole],
        ["DesignReviewService.ReopenThreadAsync"] = [Member, Lead, Mentor, Admin, NoRole],
        ["InboxService.MarkReadAsync"] = [Member, Lead, Mentor, Admin, NoRole],
        ["InboxService.MarkAllReadAsync"] = [Member, Lead, Mentor, Admin, NoRole],
        ["DefectService.ReportAsync"] = [Member, Lead],
        ["DefectService.ImportAsync"] = [Lead],
        ["DefectService.UpdateAsync"] = [Member, Lead],
        ["DefectService.SetOwnerAsync"] = [Member, Lead],
        ["DefectService.SetBlockingAsync"] = [Lead],
        // The owner (only members and leads own defects) or a lead.
        ["DefectService.DiagnoseAsync"] = [Member, Lead],
        ["DefectService.MarkFixedAsync"] = [Member, Lead],
        ["DefectService.VerifyAsync"] = [Member, Lead],
        ["DefectService.WontFixAsync"] = [Lead],
        ["DefectService.ReopenAsync"] = [Lead],
    };

    /// <summary>
    /// Allowed changes that may still fail for a reason other than permission in a fresh project, with the kind of
    /// that failure: a new release cannot be approved or published while its gates fail.
    /// </summary>
    private static readonly Dictionary<string, PortalErrorKind> FailsOnItsGates = new()
    {
        ["ReleaseSignOff.ApproveAsync"] = PortalErrorKind.Validation,
        ["ReleasePublisher.PublishAsync"] = PortalErrorKind.Validation,
    };

    public sealed class Fixture : PortalAppFactory
    {
        private readonly Dictionary<string, Actor> _actors = [];
        private readonly SemaphoreSlim _lock = new(1, 1);

        public async Task<Actor> ActorAsync(string role)
        {
            _ = ServerAddress;
            await _lock.WaitAsync();
            try
            {
                if (_actors.TryGetValue(role, out var known)) return known;
                if (role == Anonymous) return _actors[role] = new Actor("anonymous-caller", "anonymous", new HashSet<string>());
                var userName = role switch
                {
                    Member => "member7", Lead => "lead.loss", Mentor => "mentor3", "tech lead" => "techlead", Admin => "admin.only", _ => "no.role",
                };
                if (userName is "admin.only" or "no.role")
                {
                    using var setup = Services.CreateScope();
                    var techLead = _actors.TryGetValue("tech lead", out var t) ? t : _actors["tech lead"] = await FromIdentityAsync("techlead");
                    var id = await setup.ServiceProvider.GetRequiredService<UserAdministration>().CreateAsync(techLead, new NewUserForm
                    {
                        UserName = userName, DisplayName = userName, Password = "Matrix!2026x", Roles = userName == "admin.only" ? [Roles.Admin] : [Roles.Member],
                    });
                    // The admin page insists on a role; an account left without one (roles removed in the database) must still be refused.
                    if (userName == "no.role") await WithDbAsync(db => db.UserRoles.Where(r => r.UserId == id).ExecuteDeleteAsync());
                }
                return _actors[role] = await FromIdentityAsync(userName);
            }
            finally { _lock.Release(); }
        }

        private async Task<Actor> FromIdentityAsync(string userName)
        {
            using var scope = Services.CreateScope();
            var signIn = scope.ServiceProvider.GetRequiredService<SignInManager<PortalUser>>();
            var user = await signIn.UserManager.FindByNameAsync(userName) ?? throw new InvalidOperationException(userName);
            return Actor.From(await signIn.CreateUserPrincipalAsync(user));
        }
    }

    private readonly Fixture _app;
    public RoleByActionTests(Fixture app) => _app = app;

    public static TheoryData<string, string> Cells()
    {
        var data = new TheoryData<string, string>();
        foreach (var change in EveryChangeRefusesAStaleActorTests.Changes().Select(Key).Order())
            foreach (var role in Everyone)
                data.Add(change, role);
        return data;
    }

    private static string Key(System.Reflection.MethodInfo m) => $"{m.DeclaringType!.Name}.{m.Name}";

    [Fact]
    public void Every_change_the_services_offer_is_classified_and_every_classified_change_exists()
    {
        var offered = EveryChangeRefusesAStaleActorTests.Changes().Select(Key).ToHashSet();
        Assert.Empty(offered.Except(Spec.Keys).Order());
        Assert.Empty(Spec.Keys.Except(offered).Order());
        Assert.Empty(Spec.Keys.Except(Cases.Keys).Order());
    }

    [Fact]
    public void A_caller_who_is_not_signed_in_has_no_actor_at_all()
    {
        var error = Assert.Throws<PortalError>(() => Actor.From(new ClaimsPrincipal(new ClaimsIdentity())));
        Assert.Equal(PortalErrorKind.Forbidden, error.Kind);
    }

    [Theory]
    [MemberData(nameof(Cells))]
    public async Task Each_role_makes_exactly_the_changes_the_spec_gives_it(string change, string role)
    {
        var actor = await _app.ActorAsync(role);
        var world = new World(_app, await _app.ActorAsync("tech lead"), await _app.ActorAsync(Member), await _app.ActorAsync(Mentor),
            await _app.ActorAsync(Lead), actor, role);
        await world.StartAsync();

        var error = await Record.ExceptionAsync(() => Cases[change](world, actor));

        if (Spec[change].Contains(role))
        {
            if (FailsOnItsGates.TryGetValue(change, out var kind))
                Assert.Equal(kind, Assert.IsType<PortalError>(error).Kind);
            else
                Assert.Null(error);
        }
        else
        {
            var refused = Assert.IsType<PortalError>(error);
            Assert.Equal(PortalErrorKind.Forbidden, refused.Kind);
        }
    }

    /// <summary>Each change, set up for the role under test and then made by it.</summary>
    private static readonly Dictionary<string, Func<World, Actor, Task>> Cases = new()
    {
        ["ProjectEditing.CreateAsync"] = (w, a) => w.Get<ProjectEditing>().CreateAsync(a, World.ProjectForm($"Matrix {Guid.NewGuid():N}")),
        ["ProjectEditing.UpdateAsync"] = (w, a) => w.Get<ProjectEditing>().UpdateAsync(a, w.ProjectId, 0, World.ProjectForm($"Renamed {Guid.NewGuid():N}")),
        ["ProjectEditing.SetToleranceAsync"] = (w, a) => w.Get<ProjectEditing>().SetToleranceAsync(a, w.ProjectId, 0.7),
        ["ProjectEditing.AdvanceAsync"] = (w, a) => w.Get<ProjectEditing>().AdvanceAsync(a, w.ProjectId, 0),
        ["ProjectEditing.SendBackAsync"] = async (w, a) =>
        {
            await w.Get<ProjectEditing>().AdvanceAsync(w.TechLead, w.ProjectId, 0);
            await w.Get<ProjectEditing>().SendBackAsync(a, w.ProjectId, 1, ReproductionStage.ModelSelection, "Claims were on the wrong split");
        },
        ["TaskEditing.CreateAsync"] = (w, a) => w.Get<TaskEditing>().CreateAsync(a, w.ProjectId, new TaskForm { Title = "New analysis item" }),
        ["TaskEditing.UpdateAsync"] = async (w, a) => await w.Get<TaskEditing>().UpdateAsync(a, await w.TaskAsync(ProjectTaskStatus.Open, null), 0, new TaskForm { Title = "Renamed" }),
        ["TaskClaims.ClaimAsync"] = async (w, a) => await w.Get<TaskClaims>().ClaimAsync(a, await w.TaskAsync(ProjectTaskStatus.Open, null)),
        ["TaskClaims.AssignAsync"] = async (w, a) => await w.Get<TaskClaims>().AssignAsync(a, await w.TaskAsync(ProjectTaskStatus.Open, null), w.Member.UserId),
        ["TaskClaims.UnclaimAsync"] = async (w, a) => await w.Get<TaskClaims>().UnclaimAsync(a, await w.TaskAsync(ProjectTaskStatus.Claimed, w.Doer.UserId)),
        ["TaskClaims.SubmitForReviewAsync"] = async (w, a) => await w.Get<TaskClaims>().SubmitForReviewAsync(a, await w.TaskAsync(ProjectTaskStatus.Claimed, w.Doer.UserId)),
        ["TaskClaims.CompleteAsync"] = async (w, a) => await w.Get<TaskClaims>().CompleteAsync(a, await w.TaskAsync(ProjectTaskStatus.InReview, w.Member.UserId)),
        ["TaskComments.AddAsync"] = async (w, a) => await w.Get<TaskComments>().AddAsync(a, await w.TaskAsync(ProjectTaskStatus.Open, null), "Anchors are in the cfg."),
        ["TaskComments.DeleteAsync"] = async (w, a) =>
        {
            var comment = await w.Get<TaskComments>().AddAsync(w.Self, await w.TaskAsync(ProjectTaskStatus.Open, null), "Anchors are in the cfg.");
            await w.Get<TaskComments>().DeleteAsync(a, comment);
        },
        ["UserAdministration.CreateAsync"] = (w, a) => w.Get<UserAdministration>().CreateAsync(a, World.NewUser()),
        ["UserAdministration.SetActiveAsync"] = async (w, a) => await w.Get<UserAdministration>().SetActiveAsync(a, await w.UserAsync(), false),
        ["UserAdministration.SetRolesAsync"] = async (w, a) => await w.Get<UserAdministration>().SetRolesAsync(a, await w.UserAsync(), [Roles.Member, Roles.Lead]),
        ["UserAdministration.SetSubTeamAsync"] = async (w, a) => await w.Get<UserAdministration>().SetSubTeamAsync(a, await w.UserAsync(), SubTeam.Loss),
        ["AgentTokenService.CreateAsync"] = (w, a) => w.Get<AgentTokenService>().CreateAsync(a, $"agent-{Guid.NewGuid():N}"[..20]),
        ["PersonalTokenService.CreateAsync"] = (w, a) => w.Get<PersonalTokenService>().CreateAsync(a, "nightly CI", ApiScopes.Read | ApiScopes.Runs, 30),
        ["PersonalTokenService.RevokeAsync"] = async (w, a) =>
        {
            var token = await w.Get<PersonalTokenService>().CreateAsync(a, "seed sweep", ApiScopes.Runs, 7);
            await w.Get<PersonalTokenService>().RevokeAsync(a, token.Id);
        },
        ["AgentTokenService.RevokeAsync"] = async (w, a) =>
        {
            var token = await w.Get<AgentTokenService>().CreateAsync(w.TechLead, $"agent-{Guid.NewGuid():N}"[..20]);
            await w.Get<AgentTokenService>().RevokeAsync(a, token.Id);
        },
        ["ReleaseService.CreateAsync"] = (w, a) => w.Get<ReleaseService>().CreateAsync(a, w.ProjectId, World.Release("2.0")),
        ["ReleaseService.UpdateAsync"] = async (w, a) => await w.Get<ReleaseService>().UpdateAsync(a, await w.ReleaseAsync(), World.Release("1.1")),
        ["ReleaseService.ChooseRunsAsync"] = async (w, a) =>
        {
            var release = await w.ReleaseAsync();
            await w.Get<ReleaseService>().ChooseRunsAsync(a, release, [await w.RunAsync(RunStatus.Succeeded, w.Member.UserId)]);
        },
        ["ReleaseService.SaveModelCardAsync"] = async (w, a) => await w.Get<ReleaseService>().SaveModelCardAsync(a, await w.ReleaseAsync(), "## Intended use\nDetection on COCO."),
        ["ReleaseService.PrefillModelCardAsync"] = async (w, a) => await w.Get<ReleaseService>().PrefillModelCardAsync(a, await w.ReleaseAsync()),
        ["ReleaseService.CommentAsync"] = async (w, a) => await w.Get<ReleaseService>().CommentAsync(a, await w.ReleaseAsync(), "Seeds look fine."),
        ["ReleaseSignOff.ApproveAsync"] = async (w, a) => await w.Get<ReleaseSignOff>().ApproveAsync(a, await w.ReleaseAsync()),
        ["ReleaseSignOff.RejectAsync"] = async (w, a) => await w.Get<ReleaseSignOff>().RejectAsync(a, await w.ReleaseAsync(), "Only one seed."),
        ["ReleasePublisher.PublishAsync"] = async (w, a) => await w.Get<ReleasePublisher>().PublishAsync(a, await w.ReleaseAsync()),
        ["ReleaseChanges.RefreshAsync"] = (w, a) => w.Get<ReleaseChanges>().RefreshAsync(a, CancellationToken.None),
        ["RunService.StartAsync"] = (w, a) => w.Get<RunService>().StartAsync(a, w.ProjectId, new StartRunRequest("detector", "{}", 1, null, null)),
        ["RunService.CancelAsync"] = async (w, a) => await w.Get<RunService>().CancelAsync(a, await w.RunAsync(RunStatus.Queued, w.Doer.UserId)),
        ["RunService.ResumeAsync"] = async (w, a) => await w.Get<RunService>().ResumeAsync(a, await w.RunAsync(RunStatus.Failed, w.Doer.UserId, checkpoint: 200)),
        ["RunAnnotations.AddAsync"] = async (w, a) =>
            await w.Get<RunAnnotations>().AddAsync(a, await w.RunAsync(RunStatus.Succeeded, w.Member.UserId, points: true), "train/loss", 100, 200, "Plateau: check the LR schedule."),
        ["RunAnnotations.SetStateAsync"] = async (w, a) =>
        {
            var id = await w.Get<RunAnnotations>().AddAsync(w.TechLead, await w.RunAsync(RunStatus.Succeeded, w.Member.UserId, points: true), "train/loss", 100, 200, "Plateau.");
            await w.Get<RunAnnotations>().SetStateAsync(a, id, AnnotationState.Accepted);
        },
        ["AnalysisLogService.RaiseDiscrepancyAsync"] = (w, a) => w.Get<AnalysisLogService>().RaiseDiscrepancyAsync(a, w.ProjectId, "Mosaic", "Always", "Section 3.3", "p = 0.5", "data.c:1187"),
        ["AnalysisLogService.DecideAsync"] = async (w, a) =>
        {
            var id = await w.Get<AnalysisLogService>().RaiseDiscrepancyAsync(w.TechLead, w.ProjectId, "Mosaic", "Always", "Section 3.3", "p = 0.5", "data.c:1187");
            await w.Get<AnalysisLogService>().DecideAsync(a, id, "Follow the code", "The released weights were trained with it.");
        },
        ["AnalysisLogService.AskAsync"] = (w, a) => w.Get<AnalysisLogService>().AskAsync(a, w.ProjectId, "Step or cosine schedule?"),
        ["AnalysisLogService.MarkSentAsync"] = async (w, a) =>
            await w.Get<AnalysisLogService>().MarkSentAsync(a, await w.Get<AnalysisLogService>().AskAsync(w.TechLead, w.ProjectId, "Step or cosine schedule?")),
        ["AnalysisLogService.RecordAnswerAsync"] = async (w, a) =>
        {
            var id = await w.Get<AnalysisLogService>().AskAsync(w.TechLead, w.ProjectId, "Step or cosine schedule?");
            await w.Get<AnalysisLogService>().MarkSentAsync(w.TechLead, id);
            await w.Get<AnalysisLogService>().RecordAnswerAsync(a, id, "Cosine.");
        },
        ["ChecklistService.AnswerAsync"] = async (w, a) => await w.Get<ChecklistService>().AnswerAsync(a, await w.ChecklistItemAsync(), "416 x 416", "Section 4.1", 0),
        ["ChecklistService.SetOwnerAsync"] = async (w, a) => await w.Get<ChecklistService>().SetOwnerAsync(a, await w.ChecklistItemAsync(), w.Self.UserId),
        ["ChecklistService.MakeTaskAsync"] = async (w, a) => await w.Get<ChecklistService>().MakeTaskAsync(a, await w.ChecklistItemAsync(), ModelComponent.DataPipeline),
        ["SpecificationService.SetHyperparameterAsync"] = (w, a) =>
            w.Get<SpecificationService>().SetHyperparameterAsync(a, w.ProjectId, "momentum", "0.9", "Section 4.2", "0.949", "cfg/yolov4.cfg:8", "0.949"),
        ["SpecificationService.AddContractFieldAsync"] = (w, a) =>
            w.Get<SpecificationService>().AddContractFieldAsync(a, w.ProjectId, ModelComponent.Neck, ContractDirection.Input, "c5", "[B, 1024, 16, 16]", "float32", "stride 32"),
        ["SpecificationService.RemoveContractFieldAsync"] = async (w, a) => await w.Get<SpecificationService>().RemoveContractFieldAsync(a,
            await w.Get<SpecificationService>().AddContractFieldAsync(w.TechLead, w.ProjectId, ModelComponent.Neck, ContractDirection.Input, "c5", "[B, 1024, 16, 16]", "float32", "")),
        ["DesignDocumentService.CreateAsync"] = (w, a) => w.Get<DesignDocumentService>().CreateAsync(a, w.ProjectId, "Neck design", ModelComponent.Neck, "# Neck\n\nPAN with SPP."),
        ["DesignDocumentService.PostVersionAsync"] = async (w, a) => await w.Get<DesignDocumentService>().PostVersionAsync(a, await w.DocumentAsync(w.Self), "# Neck\n\nPAN with SPP, kernels 5, 9, 13."),
        ["DesignReviewService.RequestReviewAsync"] = async (w, a) =>
            await w.Get<DesignReviewService>().RequestReviewAsync(a, await w.DocumentAsync(w.Self), (a.UserId == w.Mentor.UserId ? w.Lead : w.Mentor).UserId),
        ["DesignReviewService.GiveVerdictAsync"] = async (w, a) =>
        {
            var doc = await w.DocumentAsync(w.TechLead);
            // Only mentors and leads can be asked; for anyone else there is no request to answer.
            if (a.IsMentor || a.IsLead) await w.Get<DesignReviewService>().RequestReviewAsync(w.TechLead, doc, a.UserId);
            await w.Get<DesignReviewService>().GiveVerdictAsync(a, doc, 1, Verdict.Comment, "Which kernel sizes does SPP use?");
        },
        ["DesignReviewService.StartThreadAsync"] = async (w, a) => await w.Get<DesignReviewService>().StartThreadAsync(a, await w.DocumentAsync(w.TechLead), 1, 1, "Is this the modified PAN?"),
        ["DesignReviewService.ReplyAsync"] = async (w, a) =>
        {
            var thread = await w.Get<DesignReviewService>().StartThreadAsync(w.TechLead, await w.DocumentAsync(w.TechLead), 1, 1, "Is this the modified PAN?");
            await w.Get<DesignReviewService>().ReplyAsync(a, thread, "Yes: concatenation instead of addition.");
        },
        ["DesignReviewService.DeleteThreadAsync"] = async (w, a) =>
        {
            var thread = await w.Get<DesignReviewService>().StartThreadAsync(w.Self, await w.DocumentAsync(w.TechLead), 1, 1, "Is this the modified PAN?");
            await w.Get<DesignReviewService>().DeleteThreadAsync(a, thread);
        },
        ["DesignReviewService.ResolveThreadAsync"] = async (w, a) =>
        {
            var thread = await w.Get<DesignReviewService>().StartThreadAsync(w.Self, await w.DocumentAsync(w.TechLead), 1, 1, "Is this the modified PAN?");
            await w.Get<DesignReviewService>().ResolveThreadAsync(a, thread);
        },
        ["DesignReviewService.ReopenThreadAsync"] = async (w, a) =>
        {
            var thread = await w.Get<DesignReviewService>().StartThreadAsync(w.Self, await w.DocumentAsync(w.TechLead), 1, 1, "Is this the modified PAN?");
            await w.Get<DesignReviewService>().ResolveThreadAsync(w.TechLead, thread);
            await w.Get<DesignReviewService>().ReopenThreadAsync(a, thread);
        },
        ["InboxService.MarkReadAsync"] = async (w, a) => await w.Get<InboxService>().MarkReadAsync(a, await w.NotificationAsync(w.Self.UserId)),
        ["InboxService.MarkAllReadAsync"] = async (w, a) =>
        {
            await w.NotificationAsync(w.Self.UserId);
            await w.Get<InboxService>().MarkAllReadAsync(a);
        },
        ["DefectService.ReportAsync"] = (w, a) => w.Get<DefectService>().ReportAsync(a, w.ProjectId, World.Defect()),
        ["DefectService.ImportAsync"] = (w, a) => w.Get<DefectService>().ImportAsync(a, w.ProjectId,
            "Title,Component,Reporter,Manifestation,Part of Implementation,Impacts,Defect types,Root Causes\n" +
            "BN momentum,Backbone,Replicator,Basic defects,Modeling,Crash,Logic,Layer properties\n"),
        ["DefectService.UpdateAsync"] = async (w, a) => await w.Get<DefectService>().UpdateAsync(a, await w.DefectAsync(w.Doer), 0, World.Defect("Renamed")),
        ["DefectService.SetOwnerAsync"] = async (w, a) => await w.Get<DefectService>().SetOwnerAsync(a, await w.DefectAsync(w.Member), 0, w.Self.UserId),
        ["DefectService.SetBlockingAsync"] = async (w, a) => await w.Get<DefectService>().SetBlockingAsync(a, await w.DefectAsync(w.Member), 0, true),
        ["DefectService.DiagnoseAsync"] = async (w, a) => await w.Get<DefectService>().DiagnoseAsync(a, await w.DefectAsync(w.Member, w.Doer, DefectStatus.Open), 1, "Scaled twice."),
        ["DefectService.MarkFixedAsync"] = async (w, a) => await w.Get<DefectService>().MarkFixedAsync(a, await w.DefectAsync(w.Member, w.Doer, DefectStatus.Diagnosed), 2, "abc1234"),
        ["DefectService.VerifyAsync"] = async (w, a) =>
        {
            var defect = await w.DefectAsync(w.Member, w.Doer, DefectStatus.Fixed);
            await w.Get<DefectService>().VerifyAsync(a, defect, 3, await w.RunAsync(RunStatus.Succeeded, w.Member.UserId));
        },
        ["DefectService.WontFixAsync"] = async (w, a) => await w.Get<DefectService>().WontFixAsync(a, await w.DefectAsync(w.Member), 0, "The reference behaves the same."),
        ["DefectService.ReopenAsync"] = async (w, a) =>
        {
            var defect = await w.DefectAsync(w.Member);
            await w.Get<DefectService>().WontFixAsync(w.TechLead, defect, 0, "The reference behaves the same.");
            await w.Get<DefectService>().ReopenAsync(a, defect, 1);
        },
    };

    /// <summary>
    /// A fresh project per cell, so that no cell depends on another. <see cref="Self"/> is the acting user where the
    /// database knows them, else the tech lead (an anonymous caller owns nothing); <see cref="Doer"/> is the actor
    /// where their role can start runs, claim tasks and own defects (members and leads), else the member.
    /// </summary>
    private sealed class World(Fixture app, Actor techLead, Actor member, Actor mentor, Actor lead, Actor actor, string role)
    {
        private readonly IServiceScope _scope = app.Services.CreateScope();
        public Actor TechLead => techLead;
        public Actor Member => member;
        public Actor Mentor => mentor;
        public Actor Lead => lead;
        public Actor Self => role == Anonymous ? techLead : actor;
        public Actor Doer => role is RoleByActionTests.Member or RoleByActionTests.Lead ? actor : member;
        public long ProjectId { get; private set; }

        public T Get<T>() where T : notnull => _scope.ServiceProvider.GetRequiredService<T>();

        public async Task StartAsync() => ProjectId = await Get<ProjectEditing>().CreateAsync(techLead, ProjectForm($"Matrix {Guid.NewGuid():N}"));

        public static ProjectForm ProjectForm(string name) => new()
        {
            Name = name, PaperTitle = "YOLOv4: Optimal Speed and Accuracy of Object Detection", PaperYear = 2020,
            Claims = [new() { Metric = "AP", Dataset = "COCO", Split = "test-dev", Value = 43.0, Source = "Table 8" }],
        };

        public static NewUserForm NewUser() => new() { UserName = $"u{Guid.NewGuid():N}", DisplayName = "New person", Password = "Welcome!2026x" };

        public static ReleaseInput Release(string version) => new("Matrix-Net", version, "416", "abcdef1", ReleaseDefaults.RequiredStages);

        public static DefectForm Defect(string title = "Loss is NaN after 200 steps") => new()
        {
            Title = title, Description = "The loss diverges.", Component = ModelComponent.Backbone, Reporter = ReporterKind.Replicator,
            Manifestation = DefectManifestation.Basic, Stage = DefectStage.Training, Impact = DefectImpact.NumericalInstability,
            Type = DefectType.AssignmentInitialization, RootCause = RootCause.LayerProperties,
        };

        public Task<string> UserAsync() => Get<UserAdministration>().CreateAsync(techLead, NewUser());

        public Task<long> ReleaseAsync() => Get<ReleaseService>().CreateAsync(techLead, ProjectId, Release("1.0"));

        public Task<long> TaskAsync(ProjectTaskStatus status, string? assigneeId) => app.WithDbAsync(async db =>
        {
            var task = new ProjectTask
            {
                ProjectId = ProjectId, Title = "Checklist: general", Stage = ReproductionStage.PaperAnalysis, Component = ModelComponent.DataPipeline,
                Status = status, AssigneeId = assigneeId, CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow,
            };
            db.Tasks.Add(task);
            await db.SaveChangesAsync();
            return task.Id;
        });

        public Task<long> RunAsync(RunStatus status, string startedBy, long? checkpoint = null, bool points = false) => app.WithDbAsync(async db =>
        {
            var run = new Run
            {
                ProjectId = ProjectId, Recipe = "detector", Seed = 1, Dataset = "COCO", Split = "val", Status = status, StartedById = startedBy,
                QueuedAt = DateTimeOffset.UtcNow, LastStep = 300, LastCheckpointStep = checkpoint,
            };
            db.Runs.Add(run);
            await db.SaveChangesAsync();
            if (points)
            {
                for (var step = 100; step <= 300; step += 100)
                    db.MetricPoints.Add(new MetricPoint { RunId = run.Id, Name = "train/loss", Step = step, Value = 1.0 / step, WallTime = DateTimeOffset.UtcNow });
                await db.SaveChangesAsync();
            }
            return run.Id;
        });

        public async Task<long> ChecklistItemAsync()
        {
            await Get<ChecklistService>().StartFromTemplateAsync(ProjectId);
            return await app.WithDbAsync(db => db.ChecklistItems.Where(i => i.ProjectId == ProjectId).OrderBy(i => i.Id).Select(i => i.Id).FirstAsync());
        }

        public Task<long> DocumentAsync(Actor author) =>
            Get<DesignDocumentService>().CreateAsync(author, ProjectId, $"Neck design {Guid.NewGuid():N}"[..20], null, "# Neck\n\nPAN with SPP.");

        public Task<long> NotificationAsync(string userId) => app.WithDbAsync(async db =>
        {
            var n = new Notification { UserId = userId, Kind = NotificationKind.TaskAssigned, Text = "You were assigned a task.", Link = "/", At = DateTimeOffset.UtcNow };
            db.Notifications.Add(n);
            await db.SaveChangesAsync();
            return n.Id;
        });

        /// <summary>A defect reported by <paramref name="reporter"/>; with an owner, moved by the tech lead to <paramref name="status"/>.</summary>
        public async Task<long> DefectAsync(Actor reporter, Actor? owner = null, DefectStatus status = DefectStatus.Open)
        {
            var defects = Get<DefectService>();
            var id = await defects.ReportAsync(reporter, ProjectId, Defect());
            if (owner is null) return id;
            await defects.SetOwnerAsync(techLead, id, 0, owner.UserId);
            if (status == DefectStatus.Open) return id;
            await defects.DiagnoseAsync(techLead, id, 1, "Scaled twice.");
            if (status == DefectStatus.Diagnosed) return id;
            await defects.MarkFixedAsync(techLead, id, 2, "abc1234");
            return id;
        }
    }
}
