using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Web.Features.Projects;

namespace Portal.Web.Features.Tasks;

internal sealed class ProjectTaskConfiguration : IEntityTypeConfiguration<ProjectTask>
{
    public const int MaxTitleLength = 200;
    public const int MaxDescriptionLength = 20_000;

    public void Configure(EntityTypeBuilder<ProjectTask> b)
    {
        b.Property(t => t.Title).HasMaxLength(MaxTitleLength);
        b.Property(t => t.Version).IsConcurrencyToken();
        b.HasIndex(t => new { t.ProjectId, t.Status });
        b.HasIndex(t => t.AssigneeId);
        b.HasOne<Project>().WithMany().HasForeignKey(t => t.ProjectId).OnDelete(DeleteBehavior.Cascade);
    }
}
