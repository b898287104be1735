namespace Portal.Web.Features.Defects;

/// <summary>A bar chart's labels and series (in percent or counts), computed apart from the component so it can be checked.</summary>
public sealed record BarChartData(string[] Labels, IReadOnlyList<(string Name, double[] Data)> Series);

public static class DefectChartData
{
    /// <summary>Two series per dimension: this set's share and the study's share, in percent.</summary>
    public static BarChartData Shares(DimensionDistribution d, string ours) => new(
        d.Rows.Select(r => r.Name).ToArray(),
        [(ours, d.Rows.Select(r => Math.Round(r.Share * 100, 1)).ToArray()),
         ("Study (348 defects)", d.Rows.Select(r => Math.Round((r.StudyShare ?? 0) * 100, 1)).ToArray())]);

    /// <summary>One series per open status, components along the axis.</summary>
    public static BarChartData OpenByComponent(IReadOnlyDictionary<(string Component, DefectStatus Status), int> open)
    {
        var components = open.Keys.Select(k => k.Component).Distinct().Order().ToArray();
        var statuses = new[] { DefectStatus.Open, DefectStatus.Diagnosed, DefectStatus.Fixed };
        return new(components, statuses.Select(s => (s.ToString(), components.Select(c => (double)open.GetValueOrDefault((c, s))).ToArray())).ToList());
    }
}
