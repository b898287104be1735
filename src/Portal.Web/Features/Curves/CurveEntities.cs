using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Web.Features.Runs;

namespace Portal.Web.Features.Curves;

/// <summary>
/// Where the stored tiers of one metric series stand: every point up to <see cref="RolledUpToStep"/> is in
/// <see cref="CurveRollup"/> rows. Also the series' count and step range, so a chart never counts raw points.
/// </summary>
public sealed class CurveSeries
{
    public long RunId { get; set; }
    public string Name { get; set; } = "";
    public long RolledUpToStep { get; set; }
    public long Count { get; set; }
    public long MinStep { get; set; }
    public long MaxStep { get; set; }
}

/// <summary>
/// The M4 summary (see <see cref="M4Bucket"/>) of one bucket of 2^Level steps of a series. Written only by
/// <see cref="CurveRollups"/>, read by the chart queries. Extremes are null when the bucket holds only NaN.
/// </summary>
public sealed class CurveRollup
{
    public long RunId { get; set; }
    public string Name { get; set; } = "";
    public int Level { get; set; }
    public long Bucket { get; set; }
    public long Count { get; set; }
    public long? FirstStep { get; set; }
    public double? FirstValue { get; set; }
    public long? FirstTime { get; set; }
    public long? LastStep { get; set; }
    public double? LastValue { get; set; }
    public long? LastTime { get; set; }
    public long? MinStep { get; set; }
    public double? MinValue { get; set; }
    public long? MinTime { get; set; }
    public long? MaxStep { get; set; }
    public double? MaxValue { get; set; }
    public long? MaxTime { get; set; }
    public long? NanStep { get; set; }
    public long? NanTime { get; set; }
}

public enum AnnotationState { Open, NeedsChange, Accepted }

/// <summary>A mentor's review pinned to a step range of a run's curve.</summary>
public sealed class RunAnnotation
{
    public long Id { get; set; }
    public long RunId { get; set; }
    /// <summary>The metric chart it was made on; null means it applies to every chart of the run.</summary>
    public string? Metric { get; set; }
    public long FromStep { get; set; }
    public long ToStep { get; set; }
    public string Comment { get; set; } = "";
    public AnnotationState State { get; set; }
    public string AuthorId { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public string? StateChangedById { get; set; }
    public DateTimeOffset? StateChangedAt { get; set; }
    public int Version { get; set; }
}

internal sealed class CurveSeriesConfiguration : IEntityTypeConfiguration<CurveSeries>
{
    public void Configure(EntityTypeBuilder<CurveSeries> b)
    {
        b.ToTable("CurveSeries");
        b.HasKey(s => new { s.RunId, s.Name });
        b.HasOne<Run>().WithMany().HasForeignKey(s => s.RunId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class CurveRollupConfiguration : IEntityTypeConfiguration<CurveRollup>
{
    public void Configure(EntityTypeBuilder<CurveRollup> b)
    {
        b.ToTable("CurveRollups");
        b.HasKey(r => new { r.RunId, r.Name, r.Level, r.Bucket });
        b.HasOne<Run>().WithMany().HasForeignKey(r => r.RunId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class RunAnnotationConfiguration : IEntityTypeConfiguration<RunAnnotation>
{
    public void Configure(EntityTypeBuilder<RunAnnotation> b)
    {
        b.ToTable("RunAnnotations");
        b.Property(a => a.Comment).HasMaxLength(RunAnnotations.MaxCommentLength);
        b.Property(a => a.Version).IsConcurrencyToken();
        b.HasIndex(a => new { a.RunId, a.FromStep });
        b.HasOne<Run>().WithMany().HasForeignKey(a => a.RunId).OnDelete(DeleteBehavior.Cascade);
    }
}
