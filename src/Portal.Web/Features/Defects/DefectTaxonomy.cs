namespace Portal.Web.Features.Defects;

public enum ReporterKind { ReUser, Adaptor, Enhancer, Replicator, Other }
public enum DefectManifestation { Basic, Evolutionary, Reproducibility, Other }
public enum DefectStage { Environment, Training, DataPipeline, Modeling, Other }
public enum DefectImpact { Crash, LowerAccuracy, IncorrectFunctionality, LowerSpeed, NumericalInstability, MemoryExhaustion, Other }
public enum DefectType
{
    ExternalInterface, AssignmentInitialization, InternalInterface, AlgorithmMethod, NonFunctional, TimingOptimization,
    DataStructure, Checking, Logic, Other,
}
public enum RootCause
{
    Api, WrongEnvironmentConfiguration, GpuUsage, DataPreprocessing, TrainingConfiguration, ModelWeights, Hyperparameters,
    TrainingDataQuality, CorruptData, Documentation, LayerProperties, NetworkStructure, Loss, Other,
}

public enum DefectDimension { Reporter, Manifestation, Stage, Impact, DefectType, RootCause }

/// <summary>
/// One value of a dimension: its display name, the study's share of the 348 defects (null where the study gives
/// none), and the spellings of the study's CSV that mean it.
/// </summary>
public sealed record TaxonomyValue(int Value, string Name, double? StudyShare, IReadOnlyList<string> CsvNames);

/// <summary>
/// The taxonomy of a study of 348 defects in 27 open-source computer-vision reengineering projects, with its shares.
/// "Low frequency type" in the study's data is the study's own "other".
/// </summary>
public static class DefectTaxonomy
{
    public const string StudyOther = "Low frequency type";

    private static TaxonomyValue V(object value, string name, double? share, params string[] csv) =>
        new((int)value, name, share, [name, .. csv]);

    public static readonly IReadOnlyDictionary<DefectDimension, IReadOnlyList<TaxonomyValue>> Values =
        new Dictionary<DefectDimension, IReadOnlyList<TaxonomyValue>>
        {
            [DefectDimension.Reporter] =
            [
                V(ReporterKind.ReUser, "Re-user", 0.58, "Reuser", "Re user"),
                V(ReporterKind.Adaptor, "Adaptor", 0.26, "Adapter"),
                V(ReporterKind.Enhancer, "Enhancer", 0.14),
                V(ReporterKind.Replicator, "Replicator", 0.01),
                V(ReporterKind.Other, "Other", null, StudyOther),
            ],
            [DefectDimension.Manifestation] =
            [
                V(DefectManifestation.Basic, "Basic defects", 0.65, "Basic"),
                V(DefectManifestation.Evolutionary, "Evolutionary defects", 0.24, "Evolutionary"),
                V(DefectManifestation.Reproducibility, "Reproducibility defects", 0.11, "Reproducibility"),
                V(DefectManifestation.Other, "Other", null, StudyOther),
            ],
            [DefectDimension.Stage] =
            [
                V(DefectStage.Environment, "Environment", 0.45),
                V(DefectStage.Training, "Training", 0.26),
                V(DefectStage.DataPipeline, "Data pipeline", 0.20),
                V(DefectStage.Modeling, "Modeling", 0.09, "Modelling"),
                V(DefectStage.Other, "Other", null, StudyOther),
            ],
            [DefectDimension.Impact] =
            [
                V(DefectImpact.Crash, "Crash", 0.63),
                V(DefectImpact.LowerAccuracy, "Bad Performance (lower accuracy)", 0.14, "Lower accuracy"),
                V(DefectImpact.IncorrectFunctionality, "Incorrect Functionality", 0.10),
                V(DefectImpact.LowerSpeed, "Bad Performance (lower speed)", 0.04, "Lower speed"),
                V(DefectImpact.NumericalInstability, "Numerical Instability", 0.04),
                V(DefectImpact.MemoryExhaustion, "Memory Exhaustion", 0.02, "Out of memory"),
                V(DefectImpact.Other, "Other", null, StudyOther),
            ],
            [DefectDimension.DefectType] =
            [
                V(DefectType.ExternalInterface, "External interface", 0.30),
                V(DefectType.AssignmentInitialization, "Assignment/initialization", 0.18),
                V(DefectType.InternalInterface, "Internal interface", 0.18),
                V(DefectType.AlgorithmMethod, "Algorithm/method", 0.14),
                V(DefectType.NonFunctional, "Non-functional defects", 0.07, "Non-functional"),
                V(DefectType.TimingOptimization, "Timing/optimization", 0.06),
                V(DefectType.DataStructure, "Data structure", 0.04),
                V(DefectType.Checking, "Checking", null),
                V(DefectType.Logic, "Logic", null),
                V(DefectType.Other, "Other", null, StudyOther),
            ],
            [DefectDimension.RootCause] =
            [
                V(RootCause.Api, "API defects", 0.21, "API"),
                V(RootCause.WrongEnvironmentConfiguration, "Wrong Environment Configuration", 0.12),
                V(RootCause.GpuUsage, "GPU Usage Bug", 0.09, "GPU usage"),
                V(RootCause.DataPreprocessing, "Data preprocessing bugs", 0.08, "Data preprocessing"),
                V(RootCause.TrainingConfiguration, "Training configurations", 0.07, "Training configuration"),
                V(RootCause.ModelWeights, "Model/weight", 0.07, "Model/weights"),
                V(RootCause.Hyperparameters, "Hyperparameters", 0.05),
                V(RootCause.TrainingDataQuality, "Training data quality", null),
                V(RootCause.CorruptData, "Corrupt Data", null),
                V(RootCause.Documentation, "Insufficient/incorrect documentation", null, "Documentation"),
                V(RootCause.LayerProperties, "Layer properties", null),
                V(RootCause.NetworkStructure, "Network structure", null),
                V(RootCause.Loss, "Loss", null),
                V(RootCause.Other, "Other", null, StudyOther),
            ],
        };

    public static string Title(DefectDimension dimension) => dimension switch
    {
        DefectDimension.Reporter => "Reporter",
        DefectDimension.Manifestation => "Manifestation",
        DefectDimension.Stage => "Stage",
        DefectDimension.Impact => "Impact",
        DefectDimension.DefectType => "Defect type",
        _ => "Root cause",
    };

    public static string Name(DefectDimension dimension, int value) =>
        Values[dimension].FirstOrDefault(v => v.Value == value)?.Name
        ?? throw new ArgumentOutOfRangeException(nameof(value), $"{value} is not a {Title(dimension)} value.");

    public static bool IsDefined(DefectDimension dimension, int value) => Values[dimension].Any(v => v.Value == value);

    /// <summary>Reads a value as the study or the portal writes it, case and spacing aside; null when unknown.</summary>
    public static int? Parse(DefectDimension dimension, string? text)
    {
        var key = Normalise(text);
        if (key.Length == 0) return null;
        foreach (var v in Values[dimension])
            if (v.CsvNames.Any(n => Normalise(n) == key)) return v.Value;
        return null;
    }

    private static string Normalise(string? text) =>
        string.Join(' ', (text ?? "").Trim().ToLowerInvariant().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    public static string Name(ReporterKind v) => Name(DefectDimension.Reporter, (int)v);
    public static string Name(DefectManifestation v) => Name(DefectDimension.Manifestation, (int)v);
    public static string Name(DefectStage v) => Name(DefectDimension.Stage, (int)v);
    public static string Name(DefectImpact v) => Name(DefectDimension.Impact, (int)v);
    public static string Name(DefectType v) => Name(DefectDimension.DefectType, (int)v);
    public static string Name(RootCause v) => Name(DefectDimension.RootCause, (int)v);
}
