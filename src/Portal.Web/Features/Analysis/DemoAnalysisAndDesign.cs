using Microsoft.EntityFrameworkCore;
using Portal.Web.Data;
using Portal.Web.Features.Demo;
using Portal.Web.Features.Design;
using Portal.Web.Features.Inbox;
using Portal.Web.Features.Tasks;

namespace Portal.Web.Features.Analysis;

/// <summary>
/// Demo paper analysis and design reviews: every demo project starts from the checklist template; YOLOv4 has part of
/// its analysis done (answers with sources, discrepancies, questions to the authors, hyperparameters with one
/// mismatch, contracts for backbone, neck and head) and two design documents in review. Values follow the YOLOv4
/// paper and the darknet reference; they are demo data.
/// </summary>
internal sealed class DemoAnalysisAndDesign(TimeProvider clock) : IDemoContributor
{
    public int Order => 20;

    public async Task ContributeAsync(PortalDbContext db, DemoTeam team, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var projects = await db.Projects.Where(p => p.IsDemo).ToListAsync(cancellationToken);
        foreach (var p in projects) await ChecklistTemplate.AddToProjectAsync(db, p.Id, now, cancellationToken);
        var yolo = projects.FirstOrDefault(p => p.Name == "YOLOv4");
        if (yolo is null) return;
        var id = yolo.Id;

        Answer(db, id, "Purpose of the model", "Real-time object detection on one conventional GPU with state-of-the-art accuracy.", "Abstract; Section 1", team["member1"].Id);
        Answer(db, id, "Code availability", "Darknet (C/CUDA) by the first author, with pretrained weights.", "Abstract footnote; github.com/AlexeyAB/darknet", team["member1"].Id);
        Answer(db, id, "Framework and libraries of the reference implementation", "Darknet, C and CUDA, cuDNN, OpenCV for augmentation.", "darknet/Makefile:1-20", team["member2"].Id);
        Answer(db, id, "Architecture", "CSPDarknet53 backbone, SPP + PANet neck, YOLOv3 head (3 scales, 3 anchors each).", "Section 3.4", team["member5"].Id);
        Answer(db, id, "Loss functions", "CIoU loss for boxes, BCE for objectness and classes.", "Section 3.2, Table 4; src/yolo_layer.c:312", team["member2"].Id);
        Answer(db, id, "Dataset", "MS COCO 2017 train for training; test-dev for the reported AP.", "Section 4.1", team["member3"].Id);
        Answer(db, id, "Target metrics (AP, AP50, AP75, APs, APm, APl)", "43.0 AP, 64.9 AP50, 46.5 AP75, 24.3 APs, 46.1 APm, 55.2 APl at 512x512.", "Table 8", team["member3"].Id);
        Owner(db, id, "Pre-processing and augmentation (with exact values)", team["member7"].Id);
        Owner(db, id, "Custom layers", team["member9"].Id);

        db.Discrepancies.AddRange(
            new Discrepancy
            {
                ProjectId = id, Topic = "Mosaic probability", PaperSays = "Mosaic is applied to every training image.", PaperSource = "Section 3.3",
                CodeDoes = "Mosaic applies with probability 0.5 when mosaic=1.", CodeSource = "src/data.c:1187",
                Decision = "Follow the reference code (p = 0.5).", Reason = "The released weights were trained with the code; the reference usually wins.",
                Status = DiscrepancyStatus.Decided, RaisedById = team["member7"].Id, RaisedAt = now.AddDays(-20),
                DecidedById = team["lead.data"].Id, DecidedAt = now.AddDays(-18),
            },
            new Discrepancy
            {
                ProjectId = id, Topic = "Learning-rate schedule", PaperSays = "Step decay: multiply by 0.1 at 80% and 90% of the steps.", PaperSource = "Section 4.2",
                CodeDoes = "The cfg used for the released weights uses a cosine schedule (policy=sgdr).", CodeSource = "cfg/yolov4.cfg:19",
                RaisedById = team["member2"].Id, RaisedAt = now.AddDays(-6),
            },
            new Discrepancy
            {
                ProjectId = id, Topic = "Scale of grid sensitivity", PaperSays = "Eliminate grid sensitivity with a factor exceeding 1.0.", PaperSource = "Section 3.4, Bag of Specials",
                CodeDoes = "scale_x_y = 1.2, 1.1 and 1.05 for the three heads.", CodeSource = "cfg/yolov4.cfg:1041,1130,1219",
                RaisedById = team["member5"].Id, RaisedAt = now.AddDays(-4),
            });

        db.AuthorQuestions.AddRange(
            new AuthorQuestion
            {
                ProjectId = id, Question = "Was the 43.0 AP model trained with the step or the cosine learning-rate schedule?", Status = AuthorQuestionStatus.Sent,
                AskedById = team["member2"].Id, AskedAt = now.AddDays(-5), SentAt = now.AddDays(-5),
            },
            new AuthorQuestion
            {
                ProjectId = id, Question = "Is Mosaic disabled for the last epochs?", Status = AuthorQuestionStatus.Answered,
                Answer = "No, it stays on for the whole schedule in the released configuration.",
                AskedById = team["member7"].Id, AskedAt = now.AddDays(-25), SentAt = now.AddDays(-24), AnsweredAt = now.AddDays(-19),
            },
            new AuthorQuestion { ProjectId = id, Question = "Which ImageNet checkpoint initialised CSPDarknet53?", AskedById = team["member5"].Id, AskedAt = now.AddDays(-1) });

        db.Hyperparameters.AddRange(
            Hp(id, "batch size", "64", "Section 4.1", "64", "cfg/yolov4.cfg:6", "64"),
            Hp(id, "initial learning rate", "0.01", "Section 4.2", "0.0013", "cfg/yolov4.cfg:18", "0.0013"),
            Hp(id, "weight decay", "0.0005", "Section 4.2", "0.0005", "cfg/yolov4.cfg:9", "5e-4"),
            Hp(id, "training steps", "500500", "Section 4.2", "500500", "cfg/yolov4.cfg:20", "500500"),
            Hp(id, "input size", "512", "Table 8", "512", "cfg/yolov4.cfg:8", "512"));

        Contract(db, id, ModelComponent.Backbone, ContractDirection.Input, "images", "[B, 3, 512, 512]", "float32", "RGB images scaled to [0, 1]");
        Contract(db, id, ModelComponent.Backbone, ContractDirection.Output, "c3", "[B, 256, 64, 64]", "float32", "Stride-8 features");
        Contract(db, id, ModelComponent.Backbone, ContractDirection.Output, "c4", "[B, 512, 32, 32]", "float32", "Stride-16 features");
        Contract(db, id, ModelComponent.Backbone, ContractDirection.Output, "c5", "[B, 1024, 16, 16]", "float32", "Stride-32 features");
        Contract(db, id, ModelComponent.Neck, ContractDirection.Input, "c3, c4, c5", "[B, 256|512|1024, 64|32|16, 64|32|16]", "float32", "Backbone features");
        Contract(db, id, ModelComponent.Neck, ContractDirection.Output, "p3, p4, p5", "[B, 128|256|512, 64|32|16, 64|32|16]", "float32", "SPP + PANet fused features");
        Contract(db, id, ModelComponent.Head, ContractDirection.Input, "p3, p4, p5", "[B, 128|256|512, 64|32|16, 64|32|16]", "float32", "Neck features");
        Contract(db, id, ModelComponent.Head, ContractDirection.Output, "raw", "[B, 3, S, S, 85] per scale", "float32", "x, y, w, h, objectness, 80 class logits per anchor");

        var neck = new DesignDocument
        {
            ProjectId = id, Component = ModelComponent.Neck, Title = "Neck: SPP and PANet", AuthorId = team["member5"].Id, CreatedAt = now.AddDays(-3),
            Versions =
            [
                new DesignDocumentVersion { Number = 1, AuthorId = team["member5"].Id, CreatedAt = now.AddDays(-3), Markdown = NeckV1 },
                new DesignDocumentVersion { Number = 2, AuthorId = team["member5"].Id, CreatedAt = now.AddDays(-1), Markdown = NeckV1.Replace("Concatenation in PANet.", "Concatenation in PANet (the paper's modified PAN replaces addition with concatenation).") },
            ],
            ReviewRequests = [new ReviewRequest { ReviewerId = team["mentor2"].Id, RequestedAt = now.AddDays(-3) }, new ReviewRequest { ReviewerId = team["lead.modeling"].Id, RequestedAt = now.AddDays(-3) }],
        };
        var project = new DesignDocument
        {
            ProjectId = id, Title = "YOLOv4 reproduction plan", AuthorId = team["lead.modeling"].Id, CreatedAt = now.AddDays(-8),
            Versions = [new DesignDocumentVersion { Number = 1, AuthorId = team["lead.modeling"].Id, CreatedAt = now.AddDays(-8), Markdown = PlanV1 }],
            ReviewRequests = [new ReviewRequest { ReviewerId = team["mentor1"].Id, RequestedAt = now.AddDays(-8) }],
        };
        db.DesignDocuments.AddRange(neck, project);
        await db.SaveChangesAsync(cancellationToken);

        db.ReviewVerdicts.AddRange(
            new ReviewVerdict { DocumentId = neck.Id, VersionNumber = 1, ReviewerId = team["mentor2"].Id, Verdict = Verdict.RequestChanges, At = now.AddDays(-2) },
            new ReviewVerdict { DocumentId = neck.Id, VersionNumber = 2, ReviewerId = team["lead.modeling"].Id, Verdict = Verdict.Approve, At = now.AddHours(-20) });
        db.ReviewThreads.Add(new ReviewThread
        {
            DocumentId = neck.Id, VersionNumber = 1, Line = 7, AuthorId = team["mentor2"].Id, CreatedAt = now.AddDays(-2),
            Comments =
            [
                new ReviewComment { AuthorId = team["mentor2"].Id, Text = "The modified PAN concatenates instead of adding; say so, the differential test depends on it.", At = now.AddDays(-2) },
                new ReviewComment { AuthorId = team["member5"].Id, Text = "Fixed in version 2.", At = now.AddDays(-1) },
            ],
        });
        db.Notifications.AddRange(
            new Notification { UserId = team["mentor2"].Id, Kind = NotificationKind.ReviewRequested, Text = "Eli Novak posted version 2 of \"Neck: SPP and PANet\" for your review", Link = $"/projects/{id}/design/{neck.Id}", At = now.AddDays(-1) },
            new Notification { UserId = team["mentor1"].Id, Kind = NotificationKind.ReviewRequested, Text = "Maya Ortiz asks you to review \"YOLOv4 reproduction plan\"", Link = $"/projects/{id}/design/{project.Id}", At = now.AddDays(-8) },
            new Notification { UserId = team["member5"].Id, Kind = NotificationKind.CommentOnYourDocument, Text = "Maya Ortiz approved version 2 of \"Neck: SPP and PANet\"", Link = $"/projects/{id}/design/{neck.Id}", At = now.AddHours(-20) });
    }

    private static void Answer(PortalDbContext db, long projectId, string question, string answer, string source, string ownerId)
    {
        var item = db.ChecklistItems.Local.First(i => i.ProjectId == projectId && i.Question == question);
        (item.Answer, item.Source, item.Status, item.OwnerId, item.AnswerRevision) = (answer, source, ChecklistItemStatus.Answered, ownerId, 1);
        item.Revisions.Add(new ChecklistAnswerRevision { Number = 1, Answer = answer, Source = source, AuthorId = ownerId, At = item.UpdatedAt });
    }

    private static void Owner(PortalDbContext db, long projectId, string question, string ownerId) =>
        db.ChecklistItems.Local.First(i => i.ProjectId == projectId && i.Question == question).OwnerId = ownerId;

    private static Hyperparameter Hp(long projectId, string name, string paper, string paperSource, string reference, string referenceSource, string ours) =>
        new() { ProjectId = projectId, Name = name, PaperValue = paper, PaperSource = paperSource, ReferenceValue = reference, ReferenceSource = referenceSource, OurValue = ours };

    private static void Contract(PortalDbContext db, long projectId, ModelComponent component, ContractDirection direction, string name, string shape, string dtype, string meaning) =>
        db.ContractFields.Add(new ContractField
        {
            ProjectId = projectId, Component = component, Direction = direction, Name = name, Shape = shape, DType = dtype, Meaning = meaning,
            Position = db.ContractFields.Local.Count(f => f.ProjectId == projectId && f.Component == component && f.Direction == direction),
        });

    private const string NeckV1 = """
        # Neck: SPP and PANet

        The neck takes the backbone's stride-8, -16 and -32 features and fuses them top-down and bottom-up.

        ## Blocks
        - SPP on c5: max-pooling with kernels 5, 9 and 13, stride 1, concatenated with the input.
        - Concatenation in PANet.
        - Mish in the backbone, leaky ReLU (0.1) in the neck.

        ## Tests
        - [x] output shapes match the contract
        - [ ] layer-by-layer comparison with darknet weights

        ```python
        p5 = spp(conv(c5))
        ```
        """;

    private const string PlanV1 = """
        # YOLOv4 reproduction plan

        | Component | Owner | Reference |
        |---|---|---|
        | Backbone (CSPDarknet53) | Modeling | cfg/yolov4.cfg:1-800 |
        | Neck (SPP + PANet) | Modeling | cfg/yolov4.cfg:800-1000 |
        | Head and loss (CIoU) | Loss | src/yolo_layer.c |
        | Data pipeline (Mosaic, CutMix) | Data pipeline | src/data.c |

        Baseline first: reproduce 43.0 AP at 512 on COCO test-dev (demo value), then add features one at a time.
        """;
}
