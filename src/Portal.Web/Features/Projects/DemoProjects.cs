using Portal.Web.Data;
using Portal.Web.Features.Demo;

namespace Portal.Web.Features.Projects;

/// <summary>
/// The YOLO family projects with the papers' claims (COCO test-dev). Values are the published ones,
/// stored as demo data and labelled so.
/// </summary>
internal sealed class DemoProjects(TimeProvider clock) : IDemoContributor
{
    public int Order => 0;

    public Task ContributeAsync(PortalDbContext db, DemoTeam team, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var leadId = team["techlead"].Id;

        Project Make(string name, string summary, string title, string authors, int year, string url, ReproductionStage stage,
            (string Metric, double Value, string Source)[] claims, string reference, string framework)
        {
            var project = new Project
            {
                Name = name, Summary = summary, PaperTitle = title, PaperAuthors = authors, PaperYear = year,
                PaperUrl = url, Stage = stage, IsDemo = true, CreatedAt = now.AddDays(-120),
                Claims = claims.Select(c => new PaperClaim { Metric = c.Metric, Dataset = "COCO", Split = "test-dev", Value = c.Value, Source = c.Source, IsDemo = true }).ToList(),
                References = [new ReferenceImplementation { RepositoryUrl = reference, Framework = framework, WeightsUrl = reference + "/releases" }],
            };
            for (var s = ReproductionStage.ModelSelection; s < stage; s++)
                project.StageHistory.Add(new StageTransition { From = s, To = s + 1, ByUserId = leadId, At = now.AddDays(-100 + 10 * (int)s) });
            return project;
        }

        db.Projects.AddRange(
            Make("YOLOv3", "Incremental improvement of YOLO: multi-scale predictions with Darknet-53.",
                "YOLOv3: An Incremental Improvement", "Joseph Redmon, Ali Farhadi", 2018, "https://arxiv.org/abs/1804.02767",
                ReproductionStage.Release, [("AP", 33.0, "Table 3, YOLOv3 608x608"), ("AP50", 57.9, "Table 3, YOLOv3 608x608")],
                "https://github.com/pjreddie/darknet", "Darknet (C)"),
            Make("YOLOv4", "Optimal speed and accuracy of object detection: CSPDarknet53, SPP, PANet, bag of freebies.",
                "YOLOv4: Optimal Speed and Accuracy of Object Detection", "Alexey Bochkovskiy, Chien-Yao Wang, Hong-Yuan Mark Liao", 2020,
                "https://arxiv.org/abs/2004.10934", ReproductionStage.PaperAnalysis, [("AP", 43.0, "Table 8, YOLOv4 512x512")],
                "https://github.com/AlexeyAB/darknet", "Darknet (C)"),
            Make("YOLOv4-tiny", "A light YOLOv4 for constrained devices.",
                "Scaled-YOLOv4: Scaling Cross Stage Partial Network", "Chien-Yao Wang, Alexey Bochkovskiy, Hong-Yuan Mark Liao", 2021,
                "https://arxiv.org/abs/2011.08036", ReproductionStage.Evaluation, [("AP", 21.7, "Table 7, YOLOv4-tiny 416"), ("AP50", 42.0, "Table 7, YOLOv4-tiny 416")],
                "https://github.com/WongKinYiu/ScaledYOLOv4", "PyTorch"),
            Make("Scaled-YOLOv4", "Scaling cross stage partial networks up and down: CSP, P5, P6.",
                "Scaled-YOLOv4: Scaling Cross Stage Partial Network", "Chien-Yao Wang, Alexey Bochkovskiy, Hong-Yuan Mark Liao", 2021,
                "https://arxiv.org/abs/2011.08036", ReproductionStage.Training,
                [("AP (CSP-640)", 47.5, "Table 5, YOLOv4-CSP 640"), ("AP (P5-896)", 51.8, "Table 5, YOLOv4-P5 896"), ("AP (P6-1280)", 54.5, "Table 5, YOLOv4-P6 1280")],
                "https://github.com/WongKinYiu/ScaledYOLOv4", "PyTorch"));
        return Task.CompletedTask;
    }
}
