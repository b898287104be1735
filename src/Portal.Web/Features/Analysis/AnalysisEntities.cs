using Portal.Web.Features.Tasks;

namespace Portal.Web.Features.Analysis;

/// <summary>The three paper-analysis checklists of DOMAIN.md.</summary>
public enum ChecklistSection { General, ModelAndDesign, TrainingAndEvaluation }

public enum ChecklistItemStatus { Open, Answered }

/// <summary>One question of a project's paper analysis, its answer and where the answer came from.</summary>
public sealed class ChecklistItem
{
    public long Id { get; set; }
    public long ProjectId { get; set; }
    public ChecklistSection Section { get; set; }
    public int Position { get; set; }
    public string Question { get; set; } = "";
    public string Answer { get; set; } = "";
    /// <summary>Paper section, table or equation, or a reference-code file and line.</summary>
    public string Source { get; set; } = "";
    public ChecklistItemStatus Status { get; set; }
    public string? OwnerId { get; set; }
    /// <summary>The board task made from this item, if any.</summary>
    public long? TaskId { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    /// <summary>Number of the answer's latest revision (0: never answered); a save names the one its writer saw.</summary>
    public int AnswerRevision { get; set; }
    public List<ChecklistAnswerRevision> Revisions { get; set; } = [];
}

/// <summary>One saved answer of a checklist item: every answer is kept, so that an overwritten one stays readable.</summary>
public sealed class ChecklistAnswerRevision
{
    public long Id { get; set; }
    public long ItemId { get; set; }
    /// <summary>1, 2, ... per item.</summary>
    public int Number { get; set; }
    public string Answer { get; set; } = "";
    public string Source { get; set; } = "";
    /// <summary>Null only for answers written before revisions were kept, whose writer is unknown.</summary>
    public string? AuthorId { get; set; }
    public DateTimeOffset At { get; set; }
}

public enum DiscrepancyStatus { Open, Decided }

/// <summary>The paper says one thing, the reference code does another: what the team decided and why.</summary>
public sealed class Discrepancy
{
    public long Id { get; set; }
    public long ProjectId { get; set; }
    public string Topic { get; set; } = "";
    public string PaperSays { get; set; } = "";
    public string PaperSource { get; set; } = "";
    public string CodeDoes { get; set; } = "";
    public string CodeSource { get; set; } = "";
    public string Decision { get; set; } = "";
    public string Reason { get; set; } = "";
    public DiscrepancyStatus Status { get; set; }
    public string RaisedById { get; set; } = "";
    public DateTimeOffset RaisedAt { get; set; }
    public string? DecidedById { get; set; }
    public DateTimeOffset? DecidedAt { get; set; }
}

public enum AuthorQuestionStatus { Asked, Sent, Answered }

/// <summary>A question for the paper's authors: drafted, e-mailed, answered.</summary>
public sealed class AuthorQuestion
{
    public long Id { get; set; }
    public long ProjectId { get; set; }
    public string Question { get; set; } = "";
    public AuthorQuestionStatus Status { get; set; }
    public string Answer { get; set; } = "";
    public string AskedById { get; set; } = "";
    public DateTimeOffset AskedAt { get; set; }
    public DateTimeOffset? SentAt { get; set; }
    public DateTimeOffset? AnsweredAt { get; set; }
}

/// <summary>One hyperparameter as the paper, the reference code and the team set it. Values are text ("0.00261", "[0.5, 1.5]").</summary>
public sealed class Hyperparameter
{
    public long Id { get; set; }
    public long ProjectId { get; set; }
    public string Name { get; set; } = "";
    public string PaperValue { get; set; } = "";
    public string PaperSource { get; set; } = "";
    public string ReferenceValue { get; set; } = "";
    public string ReferenceSource { get; set; } = "";
    public string OurValue { get; set; } = "";
}

public enum ContractDirection { Input, Output }

/// <summary>One input or output of a component's agreed contract.</summary>
public sealed class ContractField
{
    public long Id { get; set; }
    public long ProjectId { get; set; }
    public ModelComponent Component { get; set; }
    public ContractDirection Direction { get; set; }
    public int Position { get; set; }
    public string Name { get; set; } = "";
    /// <summary>e.g. [B, 3, H, W] with symbolic dimensions.</summary>
    public string Shape { get; set; } = "";
    public string DType { get; set; } = "";
    public string Meaning { get; set; } = "";
}
