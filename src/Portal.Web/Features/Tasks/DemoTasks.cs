using Portal.Web.Data;
using Portal.Web.Features.Demo;
using Portal.Web.Features.Projects;

namespace Portal.Web.Features.Tasks;

/// <summary>
/// A realistic board per demo project: the paper-analysis checklists, one implementation and test task per component,
/// differential tests and the infrastructure around training. Progress follows each project's stage.
/// </summary>
internal sealed class DemoTasks(TimeProvider clock) : IDemoContributor
{
    public int Order => 10;

    private static readonly (string Title, ReproductionStage Stage, ModelComponent Component, double Hours, string Description)[] Template =
    [
        ("Checklist: general (purpose, code availability, reference framework, base networks)", ReproductionStage.PaperAnalysis, ModelComponent.Infrastructure, 6,
            "Fill the **General** checklist. For every item record the value *and* where it came from (section, table or reference file)."),
        ("Checklist: model and design (architecture, sub-networks, blocks, custom layers)", ReproductionStage.PaperAnalysis, ModelComponent.Backbone, 10,
            "List the sub-networks that can be built in parallel and every custom layer. Note the output structure: the unit and differential tests need it."),
        ("Checklist: loss functions and output structure", ReproductionStage.PaperAnalysis, ModelComponent.Loss, 8,
            "Write down each loss term with its weights and where the reference code computes it."),
        ("Checklist: dataset, pre-processing and augmentation with exact values", ReproductionStage.PaperAnalysis, ModelComponent.DataPipeline, 12,
            "Every augmentation with its exact parameters (mosaic, jitter, HSV, flips). One wrong value cost the YOLO team about 10 AP points."),
        ("Checklist: post-processing (NMS variant, thresholds, box decoding)", ReproductionStage.PaperAnalysis, ModelComponent.Head, 6,
            "Which NMS, which IoU and score thresholds, how boxes are decoded from the head's outputs."),
        ("Checklist: training schedule, steps and hyperparameters", ReproductionStage.PaperAnalysis, ModelComponent.Infrastructure, 6,
            "Schedule, warm-up, batch size, learning rate, weight decay; and the hardware the paper used."),
        ("Record paper vs. reference code discrepancies and author questions", ReproductionStage.PaperAnalysis, ModelComponent.Backbone, 4,
            "For each discrepancy: *paper says X, code does Y*, our decision and why. Keep the e-mails to the authors here."),
        ("Collect reference weights and convert them to our checkpoint format", ReproductionStage.PaperAnalysis, ModelComponent.Infrastructure, 8,
            "Download the released weights, note their source and licence, and write the converter's input/output contract."),
        ("Design review: backbone input/output contract", ReproductionStage.Design, ModelComponent.Backbone, 4, "Shapes and dtypes of every level the neck consumes."),
        ("Design review: neck and head contract", ReproductionStage.Design, ModelComponent.Neck, 4, "Feature levels in, per-level predictions out."),
        ("Implement the backbone with unit tests", ReproductionStage.Implementation, ModelComponent.Backbone, 24, "Unit tests alongside the code: output shapes, gradients never empty."),
        ("Implement the neck (SPP + PAN) with unit tests", ReproductionStage.Implementation, ModelComponent.Neck, 16, "Check every route and concatenation against the reference config."),
        ("Implement the detection head and box decoding", ReproductionStage.Implementation, ModelComponent.Head, 12, "Anchors per level as in the reference config."),
        ("Implement the loss (CIoU box term, objectness, classes)", ReproductionStage.Implementation, ModelComponent.Loss, 20, "Verify the loss through its gradients, not only its value."),
        ("Implement mosaic and colour augmentation", ReproductionStage.Implementation, ModelComponent.DataPipeline, 20, "Seeded, so tests can compare it with the reference line by line."),
        ("Layer-by-layer differential test against converted weights", ReproductionStage.DifferentialTesting, ModelComponent.Backbone, 16, "Each layer's output within tolerance of the reference."),
        ("Differential test of the loss gradients", ReproductionStage.DifferentialTesting, ModelComponent.Loss, 10, "Compare gradients for a fixed batch."),
        ("Visual and line-by-line check of the data pipeline", ReproductionStage.DifferentialTesting, ModelComponent.DataPipeline, 10, "The pipeline is random: fix the seed and compare images side by side."),
        ("Training config with dataset, split and hardware recorded", ReproductionStage.Training, ModelComponent.Infrastructure, 6, "Log accuracy against every commit."),
        ("Evaluate on COCO val and test-dev, compare with the paper's claims", ReproductionStage.Evaluation, ModelComponent.Infrastructure, 8, "Store the split with every number."),
    ];

    public Task ContributeAsync(PortalDbContext db, DemoTeam team, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        // Members 9-18 hold the demo's claimed work, so members 1-8 start with empty hands.
        var holders = Enumerable.Range(9, 10).Select(i => team[$"member{i}"].Id).ToArray();
        var next = 0;
        var held = 0;
        foreach (var project in db.Projects.Local.Where(p => p.IsDemo).OrderBy(p => p.Name))
        {
            foreach (var (title, stage, component, hours, description) in Template)
            {
                var task = new ProjectTask
                {
                    ProjectId = project.Id, Title = title, DescriptionMarkdown = description, Stage = stage, Component = component,
                    EstimateHours = hours, CreatedAt = now.AddDays(-60), UpdatedAt = now.AddDays(-2),
                };
                if (stage < project.Stage) task.Status = ProjectTaskStatus.Done;
                else if (stage == project.Stage)
                {
                    // A third of the current stage's work is under way, the rest is open to claim.
                    if (next % 3 == 0) task.Status = next % 2 == 0 ? ProjectTaskStatus.Claimed : ProjectTaskStatus.InReview;
                    next++;
                }
                if (task.Status != ProjectTaskStatus.Open) task.AssigneeId = holders[held++ % holders.Length];
                db.Tasks.Add(task);
                // The feed of a demo project starts with the work now under way.
                if (task.Status is ProjectTaskStatus.Claimed or ProjectTaskStatus.InReview)
                {
                    var at = now.AddDays(-3).AddMinutes(next * 37);
                    db.Activity.Add(new ActivityEntry { ProjectId = project.Id, UserId = task.AssigneeId!, Text = $"claimed “{title}”", At = at });
                    if (task.Status == ProjectTaskStatus.InReview)
                        db.Activity.Add(new ActivityEntry { ProjectId = project.Id, UserId = task.AssigneeId!, Text = $"sent “{title}” to review", At = at.AddDays(1) });
                }
            }
        }
        return Task.CompletedTask;
    }
}
