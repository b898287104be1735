using System.Text.Json;
using Portal.Training.Recipes;

namespace Portal.Web.Features.Runs;

/// <summary>One setting of the compared runs: its value in each run (in the runs' order) and whether they differ.</summary>
public sealed record ConfigDiffRow(string Key, IReadOnlyList<string?> Values)
{
    public bool Differs => Values.Distinct(StringComparer.Ordinal).Count() > 1;
}

/// <summary>
/// The settings of runs side by side: recipe, seed, data, commit, then every leaf of the config JSON by its dotted
/// path. A key a run's config leaves out takes the recipe's default (the agent fills it in the same way), so only
/// settings that really differ are marked. A config that is not a JSON object shows as one row, "config".
/// </summary>
public static class RunConfigDiff
{
    public static IReadOnlyList<ConfigDiffRow> Compare(IReadOnlyList<Run> runs)
    {
        var rows = new List<ConfigDiffRow>
        {
            new("recipe", runs.Select(r => (string?)r.Recipe).ToList()),
            new("seed", runs.Select(r => (string?)r.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList()),
            new("dataset", runs.Select(r => (string?)$"{r.Dataset} / {r.Split}").ToList()),
            new("commit", runs.Select(r => r.Commit).ToList()),
        };
        var configs = runs.Select(Effective).ToList();
        var keys = new List<string>();
        foreach (var config in configs)
            foreach (var key in config.Keys)
                if (!keys.Contains(key, StringComparer.OrdinalIgnoreCase)) keys.Add(key);
        rows.AddRange(keys.Select(key => new ConfigDiffRow(key, configs.Select(c => c.GetValueOrDefault(key)).ToList())));
        return rows;
    }

    private static Dictionary<string, string?> Effective(Run run)
    {
        // Keys match ignoring case, as the agent reads configs.
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (RecipeCatalog.Find(run.Recipe)?.DefaultConfigJson is { } defaults) Flatten(defaults, values);
        if (!Flatten(run.ConfigJson, values)) values["config"] = run.ConfigJson;
        return values;
    }

    private static bool Flatten(string? json, Dictionary<string, string?> into)
    {
        if (string.IsNullOrWhiteSpace(json)) return true;
        try
        {
            using var doc = JsonDocument.Parse(json, RunProgress.ConfigParsing);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) return false;
            Walk(doc.RootElement, "", into);
            return true;
        }
        catch (JsonException) { return false; }
    }

    private static void Walk(JsonElement element, string path, Dictionary<string, string?> into)
    {
        if (element.ValueKind == JsonValueKind.Object && element.EnumerateObject().Any())
        {
            foreach (var property in element.EnumerateObject())
                Walk(property.Value, path.Length == 0 ? property.Name : $"{path}.{property.Name}", into);
            return;
        }
        into[path] = element.ValueKind switch
        {
            JsonValueKind.String => element.GetString(),
            JsonValueKind.Null => null,
            _ => element.GetRawText(),
        };
    }
}
