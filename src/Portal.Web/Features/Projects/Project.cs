namespace Portal.Web.Features.Projects;

/// <summary>One model reproduction: a paper, its reference code, the claims to reproduce and where the team stands.</summary>
public sealed class Project
{
    public long Id { get; set; }
    public string Name { get; set; } = "";
    public string Summary { get; set; } = "";
    public string PaperTitle { get; set; } = "";
    public string PaperAuthors { get; set; } = "";
    public int PaperYear { get; set; }
    public string PaperUrl { get; set; } = "";

    /// <summary>How far (in metric points) a reproduced value may fall from a claim and still count.</summary>
    public double Tolerance { get; set; } = 1.0;

    public ReproductionStage Stage { get; set; } = ReproductionStage.ModelSelection;

    /// <summary>How many tasks one member may hold claimed at once in this project.</summary>
    public int ClaimLimitPerMember { get; set; } = 3;

    /// <summary>How many times a run that goes Lost is queued again from its last checkpoint without a click (0: never).</summary>
    public int LostRunRestarts { get; set; } = ProjectDefaults.LostRunRestarts;

    /// <summary>Demo data is labelled so that nobody mistakes it for a team's result.</summary>
    public bool IsDemo { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Optimistic concurrency: bumped on every change of the project row.</summary>
    public int Version { get; set; }

    public List<PaperClaim> Claims { get; set; } = [];
    public List<ReferenceImplementation> References { get; set; } = [];
    public List<StageTransition> StageHistory { get; set; } = [];
}

public static class ProjectDefaults
{
    public const int LostRunRestarts = 2;
}

public enum ReproductionStage
{
    ModelSelection = 0,
    PaperAnalysis = 1,
    Design = 2,
    Implementation = 3,
    DifferentialTesting = 4,
    Training = 5,
    Evaluation = 6,
    Portability = 7,
    Release = 8,
}

/// <summary>A number the paper reports, with exactly what it was measured on.</summary>
public sealed class PaperClaim
{
    public long Id { get; set; }
    public long ProjectId { get; set; }
    public string Metric { get; set; } = "";
    public string Dataset { get; set; } = "";
    public string Split { get; set; } = "";
    public double Value { get; set; }
    /// <summary>Where in the paper: section, table or figure.</summary>
    public string Source { get; set; } = "";
    public bool IsDemo { get; set; }
}

public sealed class ReferenceImplementation
{
    public long Id { get; set; }
    public long ProjectId { get; set; }
    public string RepositoryUrl { get; set; } = "";
    public string Framework { get; set; } = "";
    public string WeightsUrl { get; set; } = "";
}

public sealed class StageTransition
{
    public long Id { get; set; }
    public long ProjectId { get; set; }
    public ReproductionStage From { get; set; }
    public ReproductionStage To { get; set; }
    /// <summary>Required when the project goes back to an earlier stage.</summary>
    public string? Reason { get; set; }
    public string ByUserId { get; set; } = "";
    public DateTimeOffset At { get; set; }
}

/// <summary>Who did what in a project, for the activity feed.</summary>
public sealed class ActivityEntry
{
    public long Id { get; set; }
    public long ProjectId { get; set; }
    public string UserId { get; set; } = "";
    public string Text { get; set; } = "";
    /// <summary>The portal address of what the entry is about (a task, run, document, defect...), when there is one.</summary>
    public string? Link { get; set; }
    public DateTimeOffset At { get; set; }
}
