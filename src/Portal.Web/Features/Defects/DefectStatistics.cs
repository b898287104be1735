namespace Portal.Web.Features.Defects;

/// <summary>One bar pair: the project's (or team's) share of a value next to the study's.</summary>
public sealed record ShareRow(string Name, int Count, double Share, double? StudyShare);

public sealed record DimensionDistribution(DefectDimension Dimension, string Title, int Total, IReadOnlyList<ShareRow> Rows);

/// <summary>The dimensions of one defect, enough for the statistics.</summary>
public sealed record DefectFacts(
    string Component, DefectStatus Status, ReporterKind Reporter, DefectManifestation Manifestation, DefectStage Stage,
    DefectImpact Impact, DefectType Type, RootCause RootCause, DateTimeOffset CreatedAt, DateTimeOffset? VerifiedAt);

/// <summary>Distributions and durations over a set of defects. Pure, so the dashboards' numbers can be checked by hand.</summary>
public static class DefectStatistics
{
    public static int ValueOf(DefectFacts d, DefectDimension dimension) => dimension switch
    {
        DefectDimension.Reporter => (int)d.Reporter,
        DefectDimension.Manifestation => (int)d.Manifestation,
        DefectDimension.Stage => (int)d.Stage,
        DefectDimension.Impact => (int)d.Impact,
        DefectDimension.DefectType => (int)d.Type,
        _ => (int)d.RootCause,
    };

    /// <summary>Every value of the dimension in the study's order, with its count and share among <paramref name="defects"/>.</summary>
    public static DimensionDistribution Distribution(IReadOnlyList<DefectFacts> defects, DefectDimension dimension)
    {
        var counts = defects.GroupBy(d => ValueOf(d, dimension)).ToDictionary(g => g.Key, g => g.Count());
        var total = defects.Count;
        var rows = DefectTaxonomy.Values[dimension]
            .Select(v =>
            {
                var n = counts.GetValueOrDefault(v.Value);
                return new ShareRow(v.Name, n, total == 0 ? 0 : (double)n / total, v.StudyShare);
            })
            .ToList();
        return new DimensionDistribution(dimension, DefectTaxonomy.Title(dimension), total, rows);
    }

    public static IReadOnlyList<DimensionDistribution> AllDistributions(IReadOnlyList<DefectFacts> defects) =>
        Enum.GetValues<DefectDimension>().Select(d => Distribution(defects, d)).ToList();

    /// <summary>Open (not Verified, not Won't fix) defects counted by component and status.</summary>
    public static IReadOnlyDictionary<(string Component, DefectStatus Status), int> OpenByComponentAndStatus(IReadOnlyList<DefectFacts> defects) =>
        defects.Where(d => d.Status is not (DefectStatus.Verified or DefectStatus.WontFix))
            .GroupBy(d => (d.Component, d.Status))
            .ToDictionary(g => g.Key, g => g.Count());

    /// <summary>The median time from report to verification over verified defects; null when none is verified.</summary>
    public static TimeSpan? MedianTimeToVerified(IReadOnlyList<DefectFacts> defects)
    {
        var spans = defects.Where(d => d.Status == DefectStatus.Verified && d.VerifiedAt is not null)
            .Select(d => (d.VerifiedAt!.Value - d.CreatedAt).Ticks).Order().ToList();
        if (spans.Count == 0) return null;
        var mid = spans.Count / 2;
        return TimeSpan.FromTicks(spans.Count % 2 == 1 ? spans[mid] : (spans[mid - 1] + spans[mid]) / 2);
    }
}
