using Portal.Web.Features.Projects;

namespace Portal.Web.Features.Curves;

/// <summary>A paper claim drawn on a chart: the claimed value and the band the project's tolerance allows.</summary>
public sealed record ClaimBand(string ClaimMetric, string Dataset, string Split, double Value, double Low, double High, double Tolerance, string Source);

/// <summary>
/// Which evaluation series a paper claim is drawn on. A claim names a metric as the paper does ("AP50", or with
/// the variant it was measured on: "AP (CSP-640)"); agents log evaluation metrics under a prefix ("eval/AP50",
/// "val/AP50", "test/AP50") or bare. The mapping is exact (ignoring case): the claim's metric without its
/// parenthesized variant, bare or under one of those prefixes. Nothing fuzzier, so "AP50" never lands on
/// "eval/AP" or "train/AP50_loss".
/// </summary>
public static class ClaimBands
{
    public static readonly string[] EvaluationPrefixes = ["eval/", "val/", "test/"];

    public static string BaseMetric(string claimMetric)
    {
        var metric = claimMetric.Trim();
        var paren = metric.IndexOf('(');
        return (paren > 0 ? metric[..paren] : metric).Trim();
    }

    public static bool Matches(string seriesName, string claimMetric)
    {
        var baseMetric = BaseMetric(claimMetric);
        if (baseMetric.Length == 0) return false;
        if (string.Equals(seriesName, baseMetric, StringComparison.OrdinalIgnoreCase)) return true;
        return EvaluationPrefixes.Any(prefix => seriesName.Length == prefix.Length + baseMetric.Length
            && seriesName.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)
            && seriesName.EndsWith(baseMetric, StringComparison.OrdinalIgnoreCase));
    }

    public static IReadOnlyList<ClaimBand> For(string seriesName, IEnumerable<PaperClaim> claims, double tolerance) =>
        claims.Where(c => Matches(seriesName, c.Metric))
            .Select(c => new ClaimBand(c.Metric, c.Dataset, c.Split, c.Value, c.Value - tolerance, c.Value + tolerance, tolerance, c.Source))
            .ToList();

    /// <summary>The gap of a reached value to a claim, and whether it is within the tolerance (the band's edges count as within).</summary>
    public static (double Gap, bool Within) Gap(double reached, ClaimBand band) =>
        (reached - band.Value, reached >= band.Low - 1e-9 && reached <= band.High + 1e-9);
}
