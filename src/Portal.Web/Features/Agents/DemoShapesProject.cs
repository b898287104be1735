using Portal.Training.Recipes;
using Portal.Web.Data;
using Portal.Web.Features.Demo;
using Portal.Web.Features.Projects;
using Portal.Web.Features.Runs;

namespace Portal.Web.Features.Agents;

/// <summary>
/// A project small enough to reproduce on one CPU: its claim is on the synthetic shapes dataset itself, with a
/// reference value measured with the detector recipe (docs/demo-shapes-reference.md). When Portal:DemoAgentToken
/// is set (run.sh sets it), that token is stored for the local agent and a detector run is queued, so that the
/// local agent starts training as soon as it connects.
/// </summary>
public sealed class DemoShapesProject(IConfiguration configuration, TimeProvider clock) : IDemoContributor
{
    public const string ProjectName = "Shapes detector (synthetic)";

    /// <summary>AP50 on synthetic-shapes val of the documented reference config (see docs/demo-shapes-reference.md).</summary>
    public const double ReferenceAp50 = DemoReference.Ap50;

    public int Order => 50;

    public async Task ContributeAsync(PortalDbContext db, DemoTeam team, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var token = configuration["Portal:DemoAgentToken"];

        var detector = RecipeCatalog.Find(RecipeCatalog.Detector)!;
        var project = new Project
        {
            Name = ProjectName,
            Summary = "A tiny YOLO-style detector reproduced on the synthetic shapes dataset: a whole reproduction loop (claim, runs, gap) that runs on one CPU in minutes. Demo data.",
            PaperTitle = "Reference measurement of the portal's detector recipe (synthetic shapes)",
            PaperAuthors = "Portal team",
            PaperYear = 2026,
            // No paper to link to: the reference is a measurement described in the repository (docs/demo-shapes-reference.md).
            PaperUrl = "",
            // Same unit as the claim and the runs' AP50 (a fraction): 0.02 is two AP points.
            Tolerance = 0.02,
            Stage = ReproductionStage.Training,
            IsDemo = true,
            CreatedAt = now,
            Claims =
            [
                new PaperClaim
                {
                    Metric = "AP50", Dataset = detector.Dataset, Split = detector.Split, Value = ReferenceAp50,
                    Source = "docs/demo-shapes-reference.md (measured reference config)", IsDemo = true,
                },
            ],
        };
        db.Projects.Add(project);
        await db.SaveChangesAsync(cancellationToken);

        // Without a local agent (no demo token configured) a queued run would only wait, so none is queued.
        if (string.IsNullOrWhiteSpace(token)) return;
        await AgentTokenService.AddAsync(db, DemoCredentials.AgentTokenName, token.Trim(), team["techlead"].Id, now);
        db.Runs.Add(new Run
        {
            ProjectId = project.Id,
            Recipe = detector.Name,
            ConfigJson = DemoReference.DemoRunConfig,
            Seed = 7,
            Dataset = detector.Dataset,
            Split = detector.Split,
            StartedById = team["member1"].Id,
            QueuedAt = now,
        });
    }
}
