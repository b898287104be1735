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
    public void Configure(EntityTypeBuilder<RunFinalMetric> b)
    {
        b.HasIndex(m => new { m.RunId, m.Name }).IsUnique();
        b.Property(m => m.Value).HasConversion(NaNAsNull.Converter).IsRequired(false);
    }
}

internal sealed class MetricPointConfiguration : IEntityTypeConfiguration<MetricPoint>
{
    public void Configure(EntityTypeBuilder<MetricPoint> b)
    {
        b.HasKey(p => new { p.RunId, p.Name, p.Step });
        b.Property(p => p.Value).HasConversion(NaNAsNull.Converter).IsRequired(false);
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

/// <summary>SQLite turns a bound NaN into NULL, so a NaN value is stored as NULL and read back as NaN; infinities are REALs.</summary>
internal static class NaNAsNull
{
    // convertsNulls is flagged as EF infrastructure (EF1001); it is the documented way to map NULL back to NaN.
#pragma warning disable EF1001
    public static readonly Microsoft.EntityFrameworkCore.Storage.ValueConversion.ValueConverter<double, double?> Converter =
        new(v => double.IsNaN(v) ? null : v, v => v ?? double.NaN, convertsNulls: true);
#pragma warning restore EF1001
}
