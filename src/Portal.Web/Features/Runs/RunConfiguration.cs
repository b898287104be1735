using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Web.Features.Projects;

namespace Portal.Web.Features.Runs;

internal sealed class RunConfiguration : IEntityTypeConfiguration<Run>
{
    public void Configure(EntityTypeBuilder<Run> b)
    {
        b.Property(r => r.Version).IsConcurrencyToken();
        b.HasIndex(r => new { r.ProjectId, r.Status });
        b.HasOne<Project>().WithMany().HasForeignKey(r => r.ProjectId).OnDelete(DeleteBehavior.Cascade);
        b.HasMany(r => r.FinalMetrics).WithOne().HasForeignKey(m => m.RunId).OnDelete(DeleteBehavior.Cascade);
        b.Ignore(r => r.IsFinished);
    }
}

internal sealed class RunFinalMetricConfiguration : IEntityTypeConfiguration<RunFinalMetric>
{
    public void Configure(EntityTypeBuilder<RunFinalMetric> b) => b.HasIndex(m => new { m.RunId, m.Name }).IsUnique();
}

internal sealed class MetricPointConfiguration : IEntityTypeConfiguration<MetricPoint>
{
    public void Configure(EntityTypeBuilder<MetricPoint> b)
    {
        b.HasKey(p => new { p.RunId, p.Name, p.Step });
        b.HasOne<Run>().WithMany().HasForeignKey(p => p.RunId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class RunLogLineConfiguration : IEntityTypeConfiguration<RunLogLine>
{
    public void Configure(EntityTypeBuilder<RunLogLine> b)
    {
        b.HasIndex(l => new { l.RunId, l.Id });
        b.HasOne<Run>().WithMany().HasForeignKey(l => l.RunId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class RunArtifactConfiguration : IEntityTypeConfiguration<RunArtifact>
{
    public void Configure(EntityTypeBuilder<RunArtifact> b)
    {
        b.HasIndex(a => new { a.RunId, a.Kind });
        b.HasOne<Run>().WithMany().HasForeignKey(a => a.RunId).OnDelete(DeleteBehavior.Cascade);
    }
}
