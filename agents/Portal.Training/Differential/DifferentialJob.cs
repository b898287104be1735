using System.Diagnostics;
using System.Globalization;
using Portal.Training.Models;

namespace Portal.Training.Differential;

/// <summary>The config of a "differential" job: which recipe's model to compare, and the reference's fixed inputs.</summary>
public sealed class DifferentialConfig : ICheckedConfig
{
    public string Recipe { get; init; } = DifferentialComparison.Recipe;
    public int InputSize { get; init; } = 96;
    public int Batch { get; init; } = 2;
    /// <summary>Seed of the reference's weights and inputs.</summary>
    public int ReferenceSeed { get; init; } = 7;
    /// <summary>A known cross-framework fault to put into our model, to show what the comparison reports (bn-eps, leaky-slope, ...).</summary>
    public string? Plant { get; init; }

    public IEnumerable<string> Check()
    {
        if (Recipe != DifferentialComparison.Recipe) yield return $"recipe '{Recipe}' has no differential comparison; the known one is {DifferentialComparison.Recipe}.";
        if (InputSize is < 64 or > 640 || InputSize % 32 != 0) yield return $"inputSize must be a multiple of 32 between 64 and 640 (got {InputSize}).";
        if (Batch is < 1 or > 16) yield return $"batch must be between 1 and 16 (got {Batch}).";
        if (Plant is not null && !DifferentialJob.Faults.ContainsKey(Plant)) yield return $"plant must be one of {string.Join(", ", DifferentialJob.Faults.Keys)} (got '{Plant}').";
    }
}

/// <summary>
/// A differential job on an agent: the agent runs the PyTorch reference script itself (agents have PyTorch; see
/// docs/decisions on differential runs) into the run's folder, then compares our model against what it wrote.
/// </summary>
public static class DifferentialJob
{
    public const string JobType = "differential";

    /// <summary>Known cross-framework faults that can be planted in our model, to see the comparison catch them.</summary>
    public static readonly IReadOnlyDictionary<string, Yolov4TinyOptions> Faults = new Dictionary<string, Yolov4TinyOptions>
    {
        ["bn-eps"] = new() { BatchNormEpsilon = 1e-3 },
        ["bn-momentum"] = new() { BatchNormMomentum = 0.1 },
        ["leaky-slope"] = new() { LeakySlope = 0.01 },
        ["tf-padding"] = new() { Padding = ConvPadding.TensorFlowSame },
        ["bilinear-upsample"] = new() { Upsampling = Upsampling.Bilinear },
    };

    /// <summary>The reference script beside the agent's binaries (copied there by the build), or in the repository.</summary>
    public static string FindScript()
    {
        var beside = Path.Combine(AppContext.BaseDirectory, "reference", "yolov4_tiny.py");
        if (File.Exists(beside)) return beside;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "agents", "reference", "yolov4_tiny.py");
            if (File.Exists(candidate)) return candidate;
        }
        throw new ReferenceException("The reference script agents/reference/yolov4_tiny.py is not installed beside the agent.");
    }

    /// <summary>Runs the reference script into <paramref name="directory"/>; throws with its error output when it fails.</summary>
    public static void WriteReference(string python, DifferentialConfig config, string directory, CancellationToken cancellationToken)
    {
        if (!File.Exists(python)) throw new ReferenceException($"{python} is missing: a differential run needs Python with PyTorch on the agent (Debian: apt-get install -y python3-torch).");
        var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { FindScript(), "--out", directory, "--size", I(config.InputSize), "--batch", I(config.Batch), "--seed", I(config.ReferenceSeed) })
            start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new ReferenceException($"{python} did not start.");
        using var kill = cancellationToken.Register(() => { try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { } });
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        cancellationToken.ThrowIfCancellationRequested();
        if (process.ExitCode != 0)
            throw new ReferenceException(stderr.Contains("No module named 'torch'", StringComparison.Ordinal)
                ? $"{python} has no PyTorch: install it on the agent (Debian: apt-get install -y python3-torch)."
                : $"The reference script failed (exit code {process.ExitCode}): {Tail(stderr)}");
    }

    /// <summary>The whole job: the reference written, loaded, and compared. Bad input throws <see cref="DifferentialException"/>.</summary>
    public static DifferentialReport Run(string python, DifferentialConfig config, string workDirectory, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(workDirectory, "reference");
        if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        WriteReference(python, config, directory, cancellationToken);
        using var folder = ReferenceFolder.Load(directory, [DifferentialComparison.Recipe]);
        return DifferentialComparison.Run(folder, config.Plant is null ? null : Faults[config.Plant]);
    }

    /// <summary>The final metrics a differential run reports: passed (1 or 0), tensors compared, tensors out of tolerance.</summary>
    public static IReadOnlyDictionary<string, double> Metrics(DifferentialReport report) => new Dictionary<string, double>
    {
        ["passed"] = report.Passed ? 1 : 0,
        ["tensors"] = report.Layers.Count,
        ["outOfTolerance"] = report.Layers.Count(l => !l.Passed),
    };

    /// <summary>The job's config, checked; throws <see cref="DifferentialException"/> with the reasons it is refused.</summary>
    public static DifferentialConfig ParseConfig(string? json)
    {
        var (config, errors) = ConfigJson.Parse<DifferentialConfig>(json);
        return config ?? throw new DifferentialException("The config was refused: " + string.Join(" ", errors));
    }

    private static string I(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Tail(string text) => text.Length <= 1500 ? text.Trim() : "…" + text[^1500..].Trim();
}
