using Microsoft.EntityFrameworkCore;
using Portal.Web.Data;

namespace Portal.Web.Features.Analysis;

/// <summary>
/// The paper-analysis checklists every project starts from (DOMAIN.md, stage 1). Code that creates a project
/// calls <see cref="AddToProjectAsync"/> inside its own unit of work, or <see cref="ChecklistService.StartFromTemplateAsync"/>.
/// </summary>
public static class ChecklistTemplate
{
    public static readonly IReadOnlyList<(ChecklistSection Section, string Question)> Items =
    [
        (ChecklistSection.General, "Purpose of the model"),
        (ChecklistSection.General, "Code availability"),
        (ChecklistSection.General, "Framework and libraries of the reference implementation"),
        (ChecklistSection.General, "Networks it builds on"),
        (ChecklistSection.ModelAndDesign, "Architecture"),
        (ChecklistSection.ModelAndDesign, "Sub-networks (which can be built in parallel)"),
        (ChecklistSection.ModelAndDesign, "Building blocks"),
        (ChecklistSection.ModelAndDesign, "Custom layers"),
        (ChecklistSection.ModelAndDesign, "Loss functions"),
        (ChecklistSection.ModelAndDesign, "Output structure (needed by the unit and differential tests)"),
        (ChecklistSection.TrainingAndEvaluation, "Dataset"),
        (ChecklistSection.TrainingAndEvaluation, "Pre-processing and augmentation (with exact values)"),
        (ChecklistSection.TrainingAndEvaluation, "Output post-processing"),
        (ChecklistSection.TrainingAndEvaluation, "Target metrics (AP, AP50, AP75, APs, APm, APl)"),
        (ChecklistSection.TrainingAndEvaluation, "Training schedule and steps"),
        (ChecklistSection.TrainingAndEvaluation, "Hyperparameters"),
    ];

    /// <summary>Adds the template's items to the project unless it already has checklist items; the caller saves.</summary>
    public static async Task<bool> AddToProjectAsync(PortalDbContext db, long projectId, DateTimeOffset now, CancellationToken ct = default)
    {
        if (await db.ChecklistItems.AnyAsync(i => i.ProjectId == projectId, ct)) return false;
        db.ChecklistItems.AddRange(Items.Select((item, i) => new ChecklistItem
        {
            ProjectId = projectId, Section = item.Section, Position = i, Question = item.Question, UpdatedAt = now,
        }));
        return true;
    }
}
