using Portal.Web.Features.Projects;

namespace Portal.Web.Features.Tasks;

public sealed class ProjectTask
{
    public long Id { get; set; }
    public long ProjectId { get; set; }
    public string Title { get; set; } = "";
    public string DescriptionMarkdown { get; set; } = "";
    public ReproductionStage Stage { get; set; }
    public ModelComponent Component { get; set; }
    /// <summary>Estimate in hours.</summary>
    public double? EstimateHours { get; set; }
    public ProjectTaskStatus Status { get; set; } = ProjectTaskStatus.Open;
    public string? AssigneeId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    /// <summary>Optimistic concurrency: a claim or edit made against an older version is refused.</summary>
    public int Version { get; set; }
}

public enum ProjectTaskStatus { Open, Claimed, InReview, Done }

public enum ModelComponent { Backbone, Neck, Head, Loss, DataPipeline, Infrastructure }
