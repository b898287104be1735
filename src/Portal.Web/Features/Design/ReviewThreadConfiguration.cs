using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Portal.Web.Features.Design;

internal sealed class ReviewThreadConfiguration : IEntityTypeConfiguration<ReviewThread>
{
    public void Configure(EntityTypeBuilder<ReviewThread> b)
    {
        b.HasOne<DesignDocument>().WithMany().HasForeignKey(t => t.DocumentId).OnDelete(DeleteBehavior.Cascade);
        b.HasMany(t => t.Comments).WithOne().HasForeignKey(c => c.ThreadId).OnDelete(DeleteBehavior.Cascade);
        b.HasIndex(t => new { t.DocumentId, t.VersionNumber });
    }
}

internal sealed class ReviewCommentConfiguration : IEntityTypeConfiguration<ReviewComment>
{
    public void Configure(EntityTypeBuilder<ReviewComment> b) => b.Property(c => c.Text).HasMaxLength(DesignLimits.MaxCommentLength);
}
