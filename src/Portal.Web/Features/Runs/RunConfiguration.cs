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
        b.Property(m => m.Value).HasConversion(NaNSentinel.Converter);
    }
}

internal sealed class MetricPointConfiguration : IEntityTypeConfiguration<MetricPoint>
{
    public void Configure(EntityTypeBuilder<MetricPoint> b)
    {
        b.HasKey(p => new { p.RunId, p.Name, p.Step });
        b.Property(p => p.Value).HasConversion(NaNSentinel.Converter);
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

internal sealed class RunRefusalConfiguration : IEntityTypeConfiguration<RunRefusal>
{
    public void Configure(EntityTypeBuilder<RunRefusal> b)
    {
        b.HasIndex(r => new { r.RunId, r.What, r.Reason }).IsUnique();
        b.Property(r => r.Reason).HasMaxLength(RunRefusal.MaxReasonLength);
        b.HasOne<Run>().WithMany().HasForeignKey(r => r.RunId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class RunRestartConfiguration : IEntityTypeConfiguration<RunRestart>
{
    public void Configure(EntityTypeBuilder<RunRestart> b)
    {
        b.HasIndex(r => new { r.RunId, r.Id });
        b.Property(r => r.Reason).HasMaxLength(RunRestart.MaxReasonLength);
        b.HasOne<Run>().WithMany().HasForeignKey(r => r.RunId).OnDelete(DeleteBehavior.Cascade);
    }
}

/// <summary>
/// SQLite turns a bound NaN into NULL, so NaN is stored as a sentinel REAL (a negative subnormal no metric
/// produces) and read back as NaN through EF; infinities are ordinary REALs. Raw SQL readers use <see cref="FromStored"/>.
/// </summary>
public static class NaNSentinel
{
    public const long Bits = unchecked((long)0x8000_0000_0000_0BADUL);
    public static readonly double Value = BitConverter.Int64BitsToDouble(Bits);

    public static double ToStored(double v) => double.IsNaN(v) ? Value : v;
    public static double FromStored(double v) => BitConverter.DoubleToInt64Bits(v) == Bits ? double.NaN : v;

    public static readonly Microsoft.EntityFrameworkCore.Storage.ValueConversion.ValueConverter<double, double> Converter =
        new(v => ToStored(v), v => FromStored(v));
}

internal sealed class AgentConfiguration : IEntityTypeConfiguration<Agent>
{
    public void Configure(EntityTypeBuilder<Agent> b) => b.HasIndex(a => a.Name).IsUnique();
}
