using System.Text.Json;
using System.Text.Json.Serialization;

namespace Portal.Training;

/// <summary>A job's config that can say what is wrong with it.</summary>
public interface ICheckedConfig
{
    IEnumerable<string> Check();
}

/// <summary>Hyperparameters every recipe shares. Property names are camelCase in the job's config JSON.</summary>
public class TrainingConfig : ICheckedConfig
{
    public int Steps { get; init; } = 600;
    public int BatchSize { get; init; } = 32;
    public double LearningRate { get; init; } = 0.003;
    public int EvalEvery { get; init; } = 100;
    public int CheckpointEvery { get; init; } = 100;
    public int LogEvery { get; init; } = 50;
    /// <summary>Consecutive steps with a NaN or infinite loss after which the run fails (each is reported and skipped).</summary>
    public int MaxNonFiniteSteps { get; init; } = 50;

    public virtual IEnumerable<string> Check()
    {
        if (Steps is < 1 or > 10_000_000) yield return $"steps must be between 1 and 10000000 (got {Steps}).";
        if (BatchSize is < 1 or > 4096) yield return $"batchSize must be between 1 and 4096 (got {BatchSize}).";
        if (!double.IsFinite(LearningRate) || LearningRate <= 0 || LearningRate > 10) yield return $"learningRate must be greater than 0 and at most 10 (got {LearningRate}).";
        if (EvalEvery < 1) yield return $"evalEvery must be at least 1 (got {EvalEvery}).";
        if (CheckpointEvery < 1) yield return $"checkpointEvery must be at least 1 (got {CheckpointEvery}).";
        if (LogEvery < 1) yield return $"logEvery must be at least 1 (got {LogEvery}).";
        if (MaxNonFiniteSteps < 1) yield return $"maxNonFiniteSteps must be at least 1 (got {MaxNonFiniteSteps}).";
    }
}

internal static class ConfigJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        NumberHandling = JsonNumberHandling.Strict,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        WriteIndented = true,
    };

    /// <summary>Parses and checks a config; returns the config or the reasons it is refused.</summary>
    public static (T? Config, IReadOnlyList<string> Errors) Parse<T>(string? json) where T : class, ICheckedConfig, new()
    {
        if (string.IsNullOrWhiteSpace(json)) json = "{}";
        T? config;
        try
        {
            config = JsonSerializer.Deserialize<T>(json, Options);
        }
        catch (JsonException e)
        {
            return (null, [Describe(e, json)]);
        }
        if (config is null) return (null, ["config must be a JSON object, not null."]);
        var errors = config.Check().ToList();
        return errors.Count == 0 ? (config, []) : (null, errors);
    }

    private static string Describe(JsonException e, string json)
    {
        // STJ names .NET types in its messages; say what the user wrote instead where we can.
        var where = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "" : e.Path[2..];
        if (e.Message.Contains("could not be mapped", StringComparison.Ordinal))
            return $"config is not valid: '{where}' is not a setting of this recipe.";
        if (e.Message.Contains("could not be converted", StringComparison.Ordinal))
            return "config is not valid: " + (where.Length > 0 ? $"'{where}' has a value of the wrong type." : "it must be a JSON object, like {\"epochs\": 3}.");
        return "config is not valid JSON: " + DescribeSyntax(e, json);
    }

    /// <summary>
    /// The parser's own message names its internals (tokens, byte positions, depth): say on which line what is
    /// wrong, in the words of someone editing the text.
    /// </summary>
    private static string DescribeSyntax(JsonException e, string json)
    {
        var reader = e.InnerException?.Message ?? e.Message;
        var lines = json.ReplaceLineEndings("\n").Split('\n');
        var line = (int)Math.Min(e.LineNumber ?? 0, lines.Length - 1);
        var column = (int)(e.BytePositionInLine ?? 0);
        bool Has(string text) => reader.Contains(text, StringComparison.Ordinal);

        if (Has("is invalid after a value. Expected either ','"))
        {
            // The parser stops at the next setting; when that starts its line, the comma belongs at the end of the one before.
            var startsLine = lines[line][..Math.Min(column, lines[line].Length)].Trim().Length == 0;
            var previous = line - 1;
            while (startsLine && previous > 0 && lines[previous].Trim().Length == 0) previous--;
            return startsLine && previous >= 0
                ? $"line {previous + 1}, a comma is missing at the end of the line."
                : $"line {line + 1}, a comma is missing before column {column + 1}.";
        }
        var atEnd = line == lines.Length - 1 && column >= lines[line].TrimEnd().Length;
        // A number as the very last thing reads as a number cut short: the brace after it is what is missing.
        if (Has("Expected depth to be zero at the end of the JSON payload") || (atEnd && Has("is an invalid end of a number")))
            return $"line {line + 1}, the config ends before its closing brace: a }} or ] is missing.";
        if (Has("Expected a value, but instead reached end of data") || Has("Expected start of a property name or value, but instead reached end of data"))
            return $"line {line + 1}, the config ends too early: a value or a closing }} is missing.";
        if (Has("is invalid after a property name. Expected a ':'"))
            return $"line {line + 1}, a colon is missing after the setting's name.";
        if (Has("is an invalid start of a property name"))
            return $"line {line + 1}, a setting's name is not in double quotes (\"name\": value).";
        if (Has("is an invalid start of a value") || Has("is an invalid JSON literal") || Has("is invalid after a property name"))
            return $"line {line + 1}, a value is not valid JSON: text goes in double quotes, true, false and null in lower case.";
        if (Has("reached end of data while reading a string") || Has("Expected end of string"))
            return $"line {line + 1}, a closing double quote is missing.";
        if (Has("is invalid after a single JSON value"))
            return $"line {line + 1}, there is more text after the config's closing brace.";
        if (Has("is an invalid end of a number") || Has("Expected a digit") || Has("invalid within a number"))
            return $"line {line + 1}, a number is not written as JSON numbers are (like 3, 0.01 or 1e-4).";
        if (Has("is invalid within a JSON string"))
            return $"line {line + 1}, a text value holds a tab or line break: write it as \\t or \\n.";
        return $"line {line + 1}, column {column + 1}: look for a missing comma, quote or brace.";
    }
}
