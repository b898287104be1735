namespace Portal.Training.Differential;

/// <summary>Where a compared tensor comes from: a layer's forward output, a loss term, a parameter's gradient, or a running statistic after the step.</summary>
public enum ComparedKind { Forward, Loss, Gradient, Buffer }

/// <summary>
/// One compared tensor. Errors are over all elements: max |ours - reference|, and max |ours - reference| / |reference|
/// over the elements whose reference magnitude is above the absolute tolerance (below it, only the absolute error counts).
/// </summary>
public sealed record LayerComparison(
    int Index,
    ComparedKind Kind,
    string Name,
    string ReferenceName,
    IReadOnlyList<long> Shape,
    double MaxAbsError,
    double MaxRelError,
    double ReferenceMaxAbs,
    double Atol,
    double Rtol,
    bool Passed,
    string? ToleranceReason,
    string? Note);

/// <summary>The result of a differential comparison; <see cref="Passed"/> only when every compared tensor is within its tolerance.</summary>
public sealed record DifferentialReport(
    string Recipe,
    string ReferenceFramework,
    string Framework,
    int InputSize,
    int Batch,
    int Seed,
    double ReferenceLoss,
    double Loss,
    string ToleranceRule,
    IReadOnlyList<LayerComparison> Layers,
    string? FirstDivergingLayer,
    string? LikelyCause)
{
    public bool Passed => Layers.Count > 0 && Layers.All(l => l.Passed);
}
