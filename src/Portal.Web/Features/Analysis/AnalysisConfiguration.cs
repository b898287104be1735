using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Web.Features.Projects;
using Portal.Web.Features.Tasks;

namespace Portal.Web.Features.Analysis;

internal sealed class ChecklistItemConfiguration : IEntityTypeConfiguration<ChecklistItem>
{
    public void Configure(EntityTypeBuilder<ChecklistItem> b)
    {
        b.HasOne<Project>().WithMany().HasForeignKey(i => i.ProjectId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<ProjectTask>().WithMany().HasForeignKey(i => i.TaskId).OnDelete(DeleteBehavior.SetNull);
        b.HasIndex(i => new { i.ProjectId, i.Section, i.Position });
    }
}

internal sealed class ChecklistAnswerRevisionConfiguration : IEntityTypeConfiguration<ChecklistAnswerRevision>
{
    public void Configure(EntityTypeBuilder<ChecklistAnswerRevision> b)
    {
        b.HasOne<ChecklistItem>().WithMany(i => i.Revisions).HasForeignKey(r => r.ItemId).OnDelete(DeleteBehavior.Cascade);
        b.HasIndex(r => new { r.ItemId, r.Number }).IsUnique();
        b.Property(r => r.Answer).HasMaxLength(ChecklistService.MaxTextLength);
        b.Property(r => r.Source).HasMaxLength(ChecklistService.MaxTextLength);
    }
}

internal sealed class DiscrepancyConfiguration : IEntityTypeConfiguration<Discrepancy>
{
    public void Configure(EntityTypeBuilder<Discrepancy> b) =>
        b.HasOne<Project>().WithMany().HasForeignKey(d => d.ProjectId).OnDelete(DeleteBehavior.Cascade);
}

internal sealed class AuthorQuestionConfiguration : IEntityTypeConfiguration<AuthorQuestion>
{
    public void Configure(EntityTypeBuilder<AuthorQuestion> b) =>
        b.HasOne<Project>().WithMany().HasForeignKey(q => q.ProjectId).OnDelete(DeleteBehavior.Cascade);
}

internal sealed class HyperparameterConfiguration : IEntityTypeConfiguration<Hyperparameter>
{
    public void Configure(EntityTypeBuilder<Hyperparameter> b)
    {
        b.HasOne<Project>().WithMany().HasForeignKey(h => h.ProjectId).OnDelete(DeleteBehavior.Cascade);
        b.HasIndex(h => new { h.ProjectId, h.Name }).IsUnique();
    }
}

internal sealed class ContractFieldConfiguration : IEntityTypeConfiguration<ContractField>
{
    public void Configure(EntityTypeBuilder<ContractField> b)
    {
        b.HasOne<Project>().WithMany().HasForeignKey(f => f.ProjectId).OnDelete(DeleteBehavior.Cascade);
        b.HasIndex(f => new { f.ProjectId, f.Component, f.Direction, f.Name }).IsUnique();
    }
}
