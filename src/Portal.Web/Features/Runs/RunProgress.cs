using System.Globalization;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Portal.Training.Recipes;
using Portal.Web.Data;

namespace Portal.Web.Features.Runs;

/// <summary>A step a run reported and when (the wall time of a metric point).</summary>
public readonly record struct StepSample(long Step, DateTimeOffset At);

/// <summary>
/// How far a run is: its last step, the steps its config trains for (null when the recipe has no step count) and,
/// while it runs, the time left at its recent step rate (null when that is unknown).
/// </summary>
public sealed record RunProgress(long Step, long? TotalSteps, TimeSpan? Eta)
{
    /// <summary>How many of the latest points the step rate is measured over.</summary>
    public const int RateWindow = 50;

    public double? Fraction => TotalSteps is > 0 and var n ? Math.Clamp((double)Step / n, 0, 1) : null;

    public string StepText => TotalSteps is { } n
        ? string.Create(CultureInfo.InvariantCulture, $"step {Step:N0} of {n:N0}")
        : string.Create(CultureInfo.InvariantCulture, $"step {Step:N0}");

    public string? EtaText => Eta is not { } eta ? null
        : eta.TotalMinutes < 1 ? "less than a minute left"
        : eta.TotalHours < 1 ? $"about {Math.Ceiling(eta.TotalMinutes):0} min left"
        : eta.TotalDays < 1 ? $"about {(int)eta.TotalHours} h {eta.Minutes} min left"
        : $"about {(int)eta.TotalDays} d {eta.Hours} h left";

    /// <summary>
    /// The progress of a run. The rate is the steps per second between the oldest and the newest of the recent
    /// samples; the time left is the remaining steps at that rate. No time left is given for a run that is not
    /// running, has no step count, is already at its last step, or whose samples show no progress in time.
    /// </summary>
    public static RunProgress Of(RunStatus status, long lastStep, long? totalSteps, IReadOnlyList<StepSample> recent)
    {
        TimeSpan? eta = null;
        if (status == RunStatus.Running && totalSteps is { } total && lastStep < total && recent.Count >= 2)
        {
            var first = recent.MinBy(s => s.Step);
            var last = recent.MaxBy(s => s.Step);
            var seconds = (last.At - first.At).TotalSeconds;
            var steps = last.Step - first.Step;
            if (seconds > 0 && steps > 0)
                eta = TimeSpan.FromSeconds(Math.Round((total - Math.Max(lastStep, last.Step)) / (steps / seconds)));
        }
        return new RunProgress(lastStep, totalSteps, eta);
    }

    /// <summary>
    /// The steps a run trains for: the "steps" of its config, or of its recipe's default config when the config
    /// leaves it out (the agent fills defaults the same way); null for a recipe without steps or a config that
    /// is not a JSON object.
    /// </summary>
    public static long? TotalStepsOf(string recipe, string? configJson) =>
        StepsIn(configJson) ?? StepsIn(RecipeCatalog.Find(recipe)?.DefaultConfigJson);

    /// <summary>Configs are read as the agent reads them: comments and trailing commas allowed.</summary>
    internal static readonly JsonDocumentOptions ConfigParsing = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    private static long? StepsIn(string? json)
    {
        if (string.IsNullOrWhiteSpace(json)) return null;
        try
        {
            using var doc = JsonDocument.Parse(json, ConfigParsing);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) return null;
            foreach (var property in doc.RootElement.EnumerateObject())
                if (string.Equals(property.Name, "steps", StringComparison.OrdinalIgnoreCase) && property.Value.TryGetInt64(out var steps) && steps > 0)
                    return steps;
            return null;
        }
        catch (JsonException) { return null; }
    }

    /// <summary>
    /// The latest points of a running run, for its step rate: of its first and its last metric name (each found on
    /// the points' key, so it costs index lookups, not a scan), the one that reached the later step. Names sort
    /// "eval/..." before "train/...", so this is usually the training loss, logged every step.
    /// </summary>
    public static async Task<IReadOnlyList<StepSample>> RecentSamplesAsync(PortalDbContext db, long runId, CancellationToken cancellationToken = default)
    {
        var points = db.MetricPoints.Where(p => p.RunId == runId);
        var first = await points.MinAsync(p => (string?)p.Name, cancellationToken);
        if (first is null) return [];
        var last = await points.MaxAsync(p => (string?)p.Name, cancellationToken) ?? first;
        List<StepSample> best = [];
        foreach (var name in first == last ? [first] : new[] { first, last })
        {
            var samples = await points.Where(p => p.Name == name).OrderByDescending(p => p.Step).Take(RateWindow)
                .Select(p => new StepSample(p.Step, p.WallTime)).ToListAsync(cancellationToken);
            if (best.Count == 0 || (samples.Count > 0 && (samples[0].Step > best[0].Step || (samples[0].Step == best[0].Step && samples.Count > best.Count))))
                best = samples;
        }
        return best;
    }
}
