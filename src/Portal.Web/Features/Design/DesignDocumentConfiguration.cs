using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Web.Features.Projects;

namespace Portal.Web.Features.Design;

internal sealed class DesignDocumentConfiguration : IEntityTypeConfiguration<DesignDocument>
{
    public void Configure(EntityTypeBuilder<DesignDocument> b)
    {
        b.HasOne<Project>().WithMany().HasForeignKey(d => d.ProjectId).OnDelete(DeleteBehavior.Cascade);
        b.HasMany(d => d.Versions).WithOne().HasForeignKey(v => v.DocumentId).OnDelete(DeleteBehavior.Cascade);
        b.HasMany(d => d.ReviewRequests).WithOne().HasForeignKey(r => r.DocumentId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class DesignDocumentVersionConfiguration : IEntityTypeConfiguration<DesignDocumentVersion>
{
    public void Configure(EntityTypeBuilder<DesignDocumentVersion> b) => b.HasIndex(v => new { v.DocumentId, v.Number }).IsUnique();
}

internal sealed class ReviewRequestConfiguration : IEntityTypeConfiguration<ReviewRequest>
{
    public void Configure(EntityTypeBuilder<ReviewRequest> b) => b.HasIndex(r => new { r.DocumentId, r.ReviewerId }).IsUnique();
}

internal sealed class ReviewVerdictConfiguration : IEntityTypeConfiguration<ReviewVerdict>
{
    public void Configure(EntityTypeBuilder<ReviewVerdict> b)
    {
        b.HasIndex(v => new { v.DocumentId, v.VersionNumber, v.ReviewerId }).IsUnique();
        b.HasOne<DesignDocument>().WithMany().HasForeignKey(v => v.DocumentId).OnDelete(DeleteBehavior.Cascade);
    }
}
