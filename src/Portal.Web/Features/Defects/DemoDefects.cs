using Portal.Web.Data;
using Portal.Web.Features.Demo;
using Portal.Web.Features.Projects;
using Portal.Web.Features.Runs;
using Portal.Web.Features.Tasks;

namespace Portal.Web.Features.Defects;

/// <summary>
/// The kinds of defect the YOLO team met, on every demo YOLO project, each linked to the task it came from and,
/// where the project has runs, to a run. Labelled demo.
/// </summary>
internal sealed class DemoDefects(TimeProvider clock) : IDemoContributor
{
    public int Order => 60;

    private static readonly (string Title, string Description, ModelComponent Component, string TaskStart, DefectStatus Status, bool Blocking,
        ReporterKind Reporter, DefectManifestation Manifestation, DefectStage Stage, DefectImpact Impact, DefectType Type, RootCause Cause)[] Template =
    [
        ("Batch-norm momentum default differs between frameworks",
            "PyTorch's `momentum=0.1` is Keras's `momentum=0.9`... and the reference uses 0.99. Running statistics lagged, AP fell by 2 points.",
            ModelComponent.Backbone, "Layer-by-layer differential test", DefectStatus.Fixed, false, ReporterKind.Replicator,
            DefectManifestation.Reproducibility, DefectStage.Modeling, DefectImpact.LowerAccuracy, DefectType.AssignmentInitialization, RootCause.LayerProperties),
        ("Mosaic augmentation differs from the reference code",
            "Our mosaic picks the centre uniformly in the whole image; the reference keeps it in the middle half. About 10 AP points.",
            ModelComponent.DataPipeline, "Implement mosaic", DefectStatus.Diagnosed, true, ReporterKind.Replicator,
            DefectManifestation.Reproducibility, DefectStage.DataPipeline, DefectImpact.LowerAccuracy, DefectType.AlgorithmMethod, RootCause.DataPreprocessing),
        ("Environment mismatch on the new training machine",
            "The new machine's CUDA and cuDNN differ from the recorded environment; training crashed at the first convolution.",
            ModelComponent.Infrastructure, "Training config", DefectStatus.Open, false, ReporterKind.ReUser,
            DefectManifestation.Basic, DefectStage.Environment, DefectImpact.Crash, DefectType.ExternalInterface, RootCause.WrongEnvironmentConfiguration),
        ("Objectness loss term scaled differently",
            "The reference averages the objectness term over the batch, ours sums it: the loss is 64 times larger and diverges to NaN.",
            ModelComponent.Loss, "Implement the loss", DefectStatus.Open, true, ReporterKind.Replicator,
            DefectManifestation.Basic, DefectStage.Training, DefectImpact.NumericalInstability, DefectType.AlgorithmMethod, RootCause.Loss),
    ];

    public Task ContributeAsync(PortalDbContext db, DemoTeam team, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var lead = team["lead.modeling"];
        foreach (var project in db.Projects.Local.Where(p => p.IsDemo && p.Name.Contains("YOLO", StringComparison.OrdinalIgnoreCase)).OrderBy(p => p.Id))
        {
            var runs = db.Runs.Local.Where(r => r.ProjectId == project.Id).OrderBy(r => r.Id).ToList();
            var day = 0;
            // A project at the release stage fixed and verified what it met; its defects no longer block.
            var released = project.Stage == ReproductionStage.Release;
            foreach (var template in Template)
            {
                var t = released ? template with { Status = DefectStatus.Verified } : template;
                var task = db.Tasks.Local.FirstOrDefault(x => x.ProjectId == project.Id && x.Title.StartsWith(t.TaskStart, StringComparison.Ordinal));
                var run = t.Stage == DefectStage.Training ? runs.FirstOrDefault(r => r.Status == RunStatus.Failed) : null;
                db.Defects.Add(new Defect
                {
                    ProjectId = project.Id, Title = t.Title, DescriptionMarkdown = t.Description, Component = t.Component, Status = t.Status,
                    IsBlocking = t.Blocking, IsDemo = true, ReportedById = lead.Id, OwnerId = t.Status == DefectStatus.Open ? null : lead.Id,
                    Reporter = t.Reporter, Manifestation = t.Manifestation, Stage = t.Stage, Impact = t.Impact, Type = t.Type, RootCause = t.Cause,
                    TaskId = task?.Id, RunId = run?.Id, EnvironmentJson = run?.HardwareJson,
                    Diagnosis = t.Status == DefectStatus.Open ? null : "See the description.",
                    FixCommit = t.Status == DefectStatus.Fixed ? "3f9c2e1a7b" : null,
                    CreatedAt = now.AddDays(-20 + day), UpdatedAt = now.AddDays(-10 + day),
                });
                day += 2;
            }
        }
        return Task.CompletedTask;
    }
}
