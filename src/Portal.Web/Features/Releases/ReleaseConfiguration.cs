using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Web.Features.Account;
using Portal.Web.Features.Projects;
using Portal.Web.Features.Runs;

namespace Portal.Web.Features.Releases;

internal sealed class ReleaseConfiguration : IEntityTypeConfiguration<Release>
{
    public void Configure(EntityTypeBuilder<Release> b)
    {
        b.Property(r => r.Name).HasMaxLength(200);
        b.Property(r => r.Version).HasMaxLength(50);
        b.HasIndex(r => new { r.ProjectId, r.Name, r.Version }).IsUnique();
        b.Property(r => r.RowVersion).IsConcurrencyToken();
        b.HasOne<Project>().WithMany().HasForeignKey(r => r.ProjectId).OnDelete(DeleteBehavior.Cascade);
        // A short list of stage numbers, stored as "3,4,5,6".
        b.Property(r => r.RequiredStages).HasConversion(
            stages => string.Join(',', stages.Select(s => (int)s)),
            text => text.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => (ReproductionStage)int.Parse(s)).ToList(),
            new ValueComparer<List<ReproductionStage>>((a, c) => a!.SequenceEqual(c!), l => l.Aggregate(0, (h, s) => HashCode.Combine(h, s)), l => l.ToList()));
        b.HasMany(r => r.Runs).WithOne().HasForeignKey(x => x.ReleaseId).OnDelete(DeleteBehavior.Cascade);
        b.HasMany(r => r.Approvals).WithOne().HasForeignKey(x => x.ReleaseId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ReleaseRunConfiguration : IEntityTypeConfiguration<ReleaseRun>
{
    public void Configure(EntityTypeBuilder<ReleaseRun> b)
    {
        b.HasKey(x => new { x.ReleaseId, x.RunId });
        b.HasOne<Run>().WithMany().HasForeignKey(x => x.RunId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ReleaseApprovalConfiguration : IEntityTypeConfiguration<ReleaseApproval>
{
    public void Configure(EntityTypeBuilder<ReleaseApproval> b)
    {
        b.HasIndex(a => new { a.ReleaseId, a.LeadId });
        b.HasOne<PortalUser>().WithMany().HasForeignKey(a => a.LeadId).OnDelete(DeleteBehavior.Restrict);
        b.Ignore(a => a.IsStanding);
    }
}

internal sealed class ReleaseAuditEntryConfiguration : IEntityTypeConfiguration<ReleaseAuditEntry>
{
    public void Configure(EntityTypeBuilder<ReleaseAuditEntry> b)
    {
        b.HasIndex(a => new { a.ReleaseId, a.At });
        b.HasOne<Release>().WithMany().HasForeignKey(a => a.ReleaseId).OnDelete(DeleteBehavior.Cascade);
    }
}
