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
            return (null, [$"config is not valid: {Describe(e)}"]);
        }
        if (config is null) return (null, ["config must be a JSON object, not null."]);
        var errors = config.Check().ToList();
        return errors.Count == 0 ? (config, []) : (null, errors);
    }

    private static string Describe(JsonException e)
    {
        // STJ names .NET types in its messages; say what the user wrote instead where we can.
        var where = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "" : e.Path[2..];
        if (e.Message.Contains("could not be mapped", StringComparison.Ordinal))
            return $"'{where}' is not a setting of this recipe.";
        if (e.Message.Contains("could not be converted", StringComparison.Ordinal))
            return where.Length > 0 ? $"'{where}' has a value of the wrong type." : "it must be a JSON object, like {\"epochs\": 3}.";
        // The parser's own message names its internals (tokens, byte positions): say where and what to look for.
        var line = (e.LineNumber ?? 0) + 1;
        var column = (e.BytePositionInLine ?? 0) + 1;
        return $"it is not JSON at line {line}, column {column}: look for a missing comma, quote or brace, or a comma after the last setting.";
    }
}
