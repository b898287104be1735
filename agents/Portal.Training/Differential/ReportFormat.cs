using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Portal.Training.Differential;

/// <summary>A <see cref="DifferentialReport"/> as JSON (what the portal stores and `compare --json` prints) and as a text table.</summary>
public static class ReportFormat
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public static string ToJson(DifferentialReport report, bool indented = false) =>
        JsonSerializer.Serialize(report, new JsonSerializerOptions(Json) { WriteIndented = indented });

    public static DifferentialReport FromJson(string json) =>
        JsonSerializer.Deserialize<DifferentialReport>(json, Json) ?? throw new JsonException("The report is null.");

    public static string ToTable(DifferentialReport report)
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(c, $"{report.Recipe}: {report.Framework} against {report.ReferenceFramework}, input {report.InputSize}, batch {report.Batch}, seed {report.Seed}");
        text.AppendLine(c, $"loss {report.Loss:G9} (reference {report.ReferenceLoss:G9})");
        text.AppendLine(c, $"{"#",4}  {"kind",-8}  {"layer",-36}  {"max abs",10}  {"max rel",10}  {"atol",9}  result");
        foreach (var l in report.Layers)
            text.AppendLine(FormattableString.Invariant($"{l.Index,4}  {l.Kind.ToString().ToLowerInvariant(),-8}  {l.Name,-36}  {l.MaxAbsError,10:G3}  {l.MaxRelError,10:G3}  {l.Atol,9:G3}  ") +
                (l.Passed ? "pass" : "FAIL") + (l.ToleranceReason is null ? "" : " (rounding allowance)") + (l.Note is null ? "" : "  " + l.Note));
        text.AppendLine(report.Passed
            ? $"All {report.Layers.Count} tensors within tolerance."
            : $"{report.Layers.Count(l => !l.Passed)} of {report.Layers.Count} tensors out of tolerance. First diverging: {report.FirstDivergingLayer}. Likely cause: {report.LikelyCause}");
        return text.ToString();
    }
}
