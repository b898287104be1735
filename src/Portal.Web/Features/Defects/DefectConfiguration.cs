using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Web.Features.Projects;

namespace Portal.Web.Features.Defects;

internal sealed class DefectConfiguration : IEntityTypeConfiguration<Defect>
{
    public const int MaxTitleLength = 200;
    public const int MaxDescriptionLength = 20_000;
    public const int MaxTextLength = 2_000;
    public const int MaxCommitLength = 64;

    public void Configure(EntityTypeBuilder<Defect> b)
    {
        b.Property(d => d.Title).HasMaxLength(MaxTitleLength);
        b.Property(d => d.OtherText).HasMaxLength(MaxTextLength);
        b.Property(d => d.Diagnosis).HasMaxLength(MaxTextLength);
        b.Property(d => d.WontFixReason).HasMaxLength(MaxTextLength);
        b.Property(d => d.FailingLayer).HasMaxLength(MaxTitleLength);
        b.Property(d => d.FixCommit).HasMaxLength(MaxCommitLength);
        b.Property(d => d.Version).IsConcurrencyToken();
        b.Ignore(d => d.IsClosed);
        b.HasIndex(d => new { d.ProjectId, d.Status });
        b.HasOne<Project>().WithMany().HasForeignKey(d => d.ProjectId).OnDelete(DeleteBehavior.Cascade);
    }
}
