using System.Globalization;
using System.Text.Json;
using Portal.Contracts;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Runs;

/// <summary>One field of a run's environment that differs between runs: its label and each run's value, in run order.</summary>
public sealed record EnvironmentDifference(string Field, IReadOnlyList<string> Values);

/// <summary>Which fields of several runs' environments differ; runs that recorded none are listed apart.</summary>
public sealed record EnvironmentComparison(IReadOnlyList<long> RunIds, IReadOnlyList<long> WithoutRecord, IReadOnlyList<EnvironmentDifference> Differences)
{
    public bool AllSame => Differences.Count == 0;
}

/// <summary>The environments agents record for their runs: checked, stored as JSON, shown as labelled fields, compared.</summary>
public static class RunEnvironments
{
    public const int MaxFieldLength = 2_000;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static string Serialize(RunEnvironment environment) => JsonSerializer.Serialize(environment, Json);

    /// <summary>The stored record, or null when there is none (runs from before it was recorded) or it cannot be read.</summary>
    public static RunEnvironment? Parse(string? json)
    {
        if (string.IsNullOrEmpty(json)) return null;
        try { return JsonSerializer.Deserialize<RunEnvironment>(json, Json); }
        catch (JsonException) { return null; }
    }

    /// <summary>Refuses a reported environment that lacks a field, has an overlong one or impossible counts.</summary>
    public static void Validate(RunEnvironment? environment)
    {
        if (environment is null) throw PortalError.Validation("Report the run's environment.");
        var missing = Fields(environment).Where(f => f.Required && string.IsNullOrWhiteSpace(f.Value)).Select(f => f.Label).ToList();
        if (missing.Count > 0) throw PortalError.Validation($"The environment lacks {string.Join(", ", missing)}.");
        var tooLong = Fields(environment).Where(f => f.Value.Length > MaxFieldLength).Select(f => f.Label).ToList();
        if (tooLong.Count > 0) throw PortalError.Validation($"Environment fields longer than {MaxFieldLength} characters: {string.Join(", ", tooLong)}.");
        if (environment.IntraOpThreads < 1 || environment.InterOpThreads < 1 || environment.CpuCores < 1)
            throw PortalError.Validation("Thread and core counts in the environment are at least 1.");
    }

    public static IReadOnlyList<(string Label, string Value)> Labelled(RunEnvironment e) =>
        Fields(e).Select(f => (f.Label, f.Value)).ToList();

    private static IEnumerable<(string Label, string Value, bool Required)> Fields(RunEnvironment e)
    {
        yield return ("CPU", e.CpuModel ?? "", true);
        yield return ("CPU flags", e.CpuFlags ?? "", false);
        yield return ("CPU cores", e.CpuCores.ToString(CultureInfo.InvariantCulture), true);
        yield return ("Device", e.Device ?? "", true);
        yield return ("libtorch", e.TorchVersion ?? "", true);
        yield return ("libtorch build", e.TorchBuild ?? "", true);
        yield return ("ATen CPU capability", e.AtenCpuCapability ?? "", true);
        yield return ("oneDNN ISA", e.OneDnnIsa ?? "", true);
        yield return ("oneDNN", e.OneDnnVersion ?? "", true);
        yield return ("Intra-op threads", e.IntraOpThreads.ToString(CultureInfo.InvariantCulture), true);
        yield return ("Inter-op threads", e.InterOpThreads.ToString(CultureInfo.InvariantCulture), true);
        yield return ("GPU", e.GpuName ?? "-", false);
        yield return ("GPU driver", e.GpuDriver ?? "-", false);
        yield return ("CUDA", e.CudaVersion ?? "-", false);
        yield return ("OS", e.Os ?? "", true);
        yield return (".NET", e.DotNetVersion ?? "", true);
        yield return ("TorchSharp", e.TorchSharpVersion ?? "", true);
        yield return ("Agent version", e.AgentVersion ?? "", true);
        yield return ("Agent commit", e.AgentCommit ?? "", true);
        yield return ("Numeric self-check", e.NumericCheck ?? "", true);
    }

    /// <summary>The fields whose values are not the same for every run that recorded an environment.</summary>
    public static EnvironmentComparison Compare(IReadOnlyList<(long RunId, RunEnvironment? Environment)> runs)
    {
        var recorded = runs.Where(r => r.Environment is not null).Select(r => (r.RunId, Fields: Labelled(r.Environment!))).ToList();
        var differences = new List<EnvironmentDifference>();
        if (recorded.Count > 1)
        {
            var labels = recorded[0].Fields.Select(f => f.Label).ToList();
            for (var i = 0; i < labels.Count; i++)
            {
                var values = recorded.Select(r => r.Fields[i].Value).ToList();
                if (values.Distinct(StringComparer.Ordinal).Count() > 1) differences.Add(new EnvironmentDifference(labels[i], values));
            }
        }
        return new EnvironmentComparison(recorded.Select(r => r.RunId).ToList(), runs.Where(r => r.Environment is null).Select(r => r.RunId).ToList(), differences);
    }
}
