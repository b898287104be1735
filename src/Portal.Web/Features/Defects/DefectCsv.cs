using System.Text;
using Portal.Web.Features.Tasks;

namespace Portal.Web.Features.Defects;

/// <summary>One row of a defect CSV, read back.</summary>
public sealed record DefectCsvRow(int Line, DefectForm Form, DefectStatus Status, bool Blocking);

public sealed record DefectCsvResult(IReadOnlyList<DefectCsvRow> Rows, IReadOnlyList<string> Errors)
{
    public bool Ok => Errors.Count == 0;
}

/// <summary>
/// Defects as CSV, with the defect study's column names for the six dimensions (so a study file's columns read
/// the same) and the portal's own columns beside them. Values are read case- and spacing-insensitively.
/// </summary>
public static class DefectCsv
{
    public const string Title = "Title";
    public const string Description = "Description";
    public const string Component = "Component";
    public const string Status = "Status";
    public const string Blocking = "Blocking";
    public const string Reporter = "Reporter";
    public const string Manifestation = "Manifestation";
    public const string Stage = "Part of Implementation";
    public const string Impacts = "Impacts";
    public const string DefectTypes = "Defect types";
    public const string RootCauses = "Root Causes";
    public const string Other = "Other";

    public static readonly IReadOnlyList<string> Columns =
        [Title, Description, Component, Status, Blocking, Reporter, Manifestation, Stage, Impacts, DefectTypes, RootCauses, Other];

    public static readonly IReadOnlyList<string> RequiredColumns =
        [Title, Component, Reporter, Manifestation, Stage, Impacts, DefectTypes, RootCauses];

    public static string Write(IEnumerable<Defect> defects)
    {
        var s = new StringBuilder();
        s.AppendJoin(',', Columns.Select(Quote)).Append("\r\n");
        foreach (var d in defects)
        {
            string[] cells =
            [
                d.Title, d.DescriptionMarkdown, d.Component.ToString(), DefectService.StatusName(d.Status), d.IsBlocking ? "yes" : "no",
                DefectTaxonomy.Name(d.Reporter), DefectTaxonomy.Name(d.Manifestation), DefectTaxonomy.Name(d.Stage),
                DefectTaxonomy.Name(d.Impact), DefectTaxonomy.Name(d.Type), DefectTaxonomy.Name(d.RootCause), d.OtherText ?? "",
            ];
            s.AppendJoin(',', cells.Select(Quote)).Append("\r\n");
        }
        return s.ToString();
    }

    /// <summary>Reads every row; any missing column or bad row is reported, with its line, and no row is returned then.</summary>
    public static DefectCsvResult Read(string text)
    {
        var records = Split(text, out var syntaxError);
        if (syntaxError is not null) return new([], [syntaxError]);
        if (records.Count == 0 || records[0].Fields.All(string.IsNullOrWhiteSpace)) return new([], ["The file is empty: it needs a header row."]);
        var header = records[0].Fields.Select(h => h.Trim()).ToList();
        var index = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < header.Count; i++) index.TryAdd(header[i], i);
        var missing = RequiredColumns.Where(c => !index.ContainsKey(c)).ToList();
        if (missing.Count > 0) return new([], [$"The file lacks the column(s) {string.Join(", ", missing.Select(m => $"“{m}”"))}."]);

        var rows = new List<DefectCsvRow>();
        var errors = new List<string>();
        foreach (var (line, fields) in records.Skip(1))
        {
            if (fields.All(string.IsNullOrWhiteSpace)) continue;
            string Cell(string column) => index.TryGetValue(column, out var i) && i < fields.Count ? fields[i].Trim() : "";
            var problems = new List<string>();
            T Dim<T>(DefectDimension dimension, string column) where T : struct, Enum
            {
                var value = DefectTaxonomy.Parse(dimension, Cell(column));
                if (value is null)
                {
                    problems.Add(Cell(column).Length == 0 ? $"“{column}” is empty" : $"“{Cell(column)}” is not a known value of “{column}”");
                    return default;
                }
                return (T)Enum.ToObject(typeof(T), value.Value);
            }

            var form = new DefectForm
            {
                Title = Cell(Title), Description = Cell(Description), OtherText = Cell(Other),
                Reporter = Dim<ReporterKind>(DefectDimension.Reporter, Reporter),
                Manifestation = Dim<DefectManifestation>(DefectDimension.Manifestation, Manifestation),
                Stage = Dim<DefectStage>(DefectDimension.Stage, Stage),
                Impact = Dim<DefectImpact>(DefectDimension.Impact, Impacts),
                Type = Dim<DefectType>(DefectDimension.DefectType, DefectTypes),
                RootCause = Dim<RootCause>(DefectDimension.RootCause, RootCauses),
            };
            if (Enum.TryParse<ModelComponent>(Cell(Component).Replace(" ", ""), ignoreCase: true, out var component) && Enum.IsDefined(component))
                form.Component = component;
            else problems.Add($"“{Cell(Component)}” is not a component ({string.Join(", ", Enum.GetNames<ModelComponent>())})");
            var status = DefectStatus.Open;
            var statusText = Cell(Status).Replace(" ", "").Replace("'", "");
            if (statusText.Length > 0 && !(Enum.TryParse(statusText, ignoreCase: true, out status) && Enum.IsDefined(status)))
                problems.Add($"“{Cell(Status)}” is not a status");
            var blockingText = Cell(Blocking).ToLowerInvariant();
            var blocking = blockingText is "yes" or "true" or "1";
            if (blockingText is not ("" or "yes" or "no" or "true" or "false" or "1" or "0")) problems.Add($"“{Cell(Blocking)}” is not yes or no");
            if (problems.Count == 0)
            {
                try { form.Validate(); }
                catch (Infrastructure.PortalError e) { problems.Add(e.Message.TrimEnd('.')); }
            }
            if (problems.Count > 0) errors.Add($"Line {line}: {string.Join("; ", problems)}.");
            else rows.Add(new DefectCsvRow(line, form, status, blocking));
        }
        return errors.Count > 0 ? new([], errors) : new(rows, []);
    }

    private static string Quote(string value) =>
        value.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + value.Replace("\"", "\"\"") + "\"" : value;

    /// <summary>RFC 4180 records with the line each starts on; quoted fields may hold commas, quotes and line breaks.</summary>
    private static List<(int Line, List<string> Fields)> Split(string text, out string? error)
    {
        error = null;
        var records = new List<(int, List<string>)>();
        var fields = new List<string>();
        var field = new StringBuilder();
        var line = 1;
        var start = 1;
        var quoted = false;
        var i = 0;
        if (text.Length > 0 && text[0] == '\uFEFF') i = 1;
        for (; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"')
                {
                    if (i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i++; }
                    else quoted = false;
                }
                else
                {
                    if (c == '\n') line++;
                    field.Append(c);
                }
            }
            else if (c == '"' && field.Length == 0) quoted = true;
            else if (c == ',') { fields.Add(field.ToString()); field.Clear(); }
            else if (c is '\r' or '\n')
            {
                if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n') i++;
                fields.Add(field.ToString()); field.Clear();
                records.Add((start, fields)); fields = [];
                line++; start = line;
            }
            else field.Append(c);
        }
        if (quoted) { error = $"Line {start}: a quoted field is not closed."; return []; }
        if (field.Length > 0 || fields.Count > 0) { fields.Add(field.ToString()); records.Add((start, fields)); }
        return records;
    }
}
