using Portal.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Portal.Training.Differential;

/// <summary>
/// The differential test of stage 4: the reference's weights go into <see cref="Yolov4Tiny"/> through the explicit
/// mapping, the reference's inputs go through one training-mode forward, the loss and its backward, and every layer
/// output, loss term, gradient and running statistic is compared with the reference's, in order. The first tensor
/// out of tolerance is where the defect is; <see cref="LikelyCauses"/> names the usual cross-framework cause there.
/// </summary>
public static class DifferentialComparison
{
    public const string Recipe = "yolov4-tiny";

    /// <summary>torch.testing.assert_close's float32 defaults.</summary>
    public const double StrictAtol = 1e-5;
    public const double StrictRtol = 1.3e-6;

    /// <summary>
    /// How many times the reference's own float32 rounding error (its float32 result against float64, measured by
    /// the reference script on its machine) a tensor may differ by when the strict tolerance does not hold.
    /// </summary>
    public const double RoundingAllowance = 8;

    public const string ToleranceRule =
        "Each tensor passes torch.testing.assert_close's float32 defaults (|ours - reference| <= 1e-5 + 1.3e-6 |reference|), " +
        "or, where float32 rounding alone exceeds that, |ours - reference| <= 1e-5 + 1.3e-6 |reference| + 8 r, where r is the " +
        "reference's own float32 error at that tensor (its float32 result against the same computation in float64). " +
        "Two float32 implementations that sum in different orders (libtorch 2.10 against PyTorch 1.13, different convolution " +
        "algorithms) differ by a few times r; every cross-framework fault we plant is orders of magnitude above that.";

    public static DifferentialReport Run(ReferenceFolder reference, Yolov4TinyOptions? variant = null, Action<Yolov4Tiny>? afterLoad = null)
    {
        var manifest = reference.Manifest;
        if (manifest.Recipe != Recipe) throw new ReferenceException($"The reference is for recipe '{manifest.Recipe}', not '{Recipe}'.");
        var anchors = Yolov4Tiny.AnchorsFor(manifest.InputSize);
        if (manifest.Anchors.Length != anchors.Length || manifest.Anchors.Zip(anchors).Any(p => p.First.Length != 2 || p.First[0] != p.Second.W || p.First[1] != p.Second.H))
            throw new ReferenceException("The reference used other anchors than YOLOv4-tiny's at this input size.");
        if (reference.Images.shape is not [var b, 3, var h, var w] || b != manifest.Batch || h != manifest.InputSize || w != manifest.InputSize)
            throw new ReferenceException($"inputs.pt holds images of shape [{string.Join(", ", reference.Images.shape)}], not [{manifest.Batch}, 3, {manifest.InputSize}, {manifest.InputSize}].");

        var options = (variant ?? new Yolov4TinyOptions()) with { Classes = manifest.Classes };
        using var model = new Yolov4Tiny(options);
        Yolov4TinyMapping.Load(model, reference.StateDict);
        afterLoad?.Invoke(model);

        using var scope = NewDisposeScope();
        model.train();
        model.zero_grad();
        var taps = new LayerTaps();
        var outputs = model.Forward(reference.Images, taps);
        var loss = Yolov4TinyLoss.Compute(outputs, reference.Targets, manifest.InputSize, manifest.Classes, taps);
        loss.Total.backward();

        var ours = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, value) in taps.Entries) ours[name] = value.detach();
        var gradients = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad ?? zeros_like(p.parameter));
        var buffers = model.named_buffers().ToDictionary(p => p.name, p => p.buffer);

        var rows = new List<LayerComparison>();
        foreach (var name in manifest.Layers)
            rows.Add(Compare(rows.Count, name.StartsWith("loss", StringComparison.Ordinal) ? ComparedKind.Loss : ComparedKind.Forward,
                name, reference.Layers[name], ours, manifest.Rounding.Layers));
        foreach (var name in manifest.Parameters)
            rows.Add(Compare(rows.Count, ComparedKind.Gradient, name, reference.Gradients[name], gradients, manifest.Rounding.Gradients));
        foreach (var name in manifest.Buffers)
            rows.Add(Compare(rows.Count, ComparedKind.Buffer, name, reference.Buffers[name], buffers, manifest.Rounding.Buffers));

        var first = FirstDiverging(rows);
        string? cause = null;
        if (first is not null)
        {
            cause = LikelyCauses.Diagnose(first, reference, ours, model);
            rows[first.Index] = first with { Note = cause };
        }
        return new DifferentialReport(Recipe, manifest.Framework, "TorchSharp (libtorch " + torch.__version__ + ")",
            manifest.InputSize, manifest.Batch, manifest.Seed, manifest.Loss, loss.Total.item<float>(), ToleranceRule,
            rows, first?.Name, cause);
    }

    /// <summary>
    /// The first forward output or loss term out of tolerance, in forward order; when all of those agree, the first
    /// gradient out of tolerance in backward order (nearest the loss first); then the running statistics.
    /// </summary>
    public static LayerComparison? FirstDiverging(IReadOnlyList<LayerComparison> rows) =>
        rows.FirstOrDefault(r => r.Kind is ComparedKind.Forward or ComparedKind.Loss && !r.Passed)
        ?? rows.Where(r => r.Kind == ComparedKind.Gradient && !r.Passed).OrderByDescending(r => r.Index).FirstOrDefault()
        ?? rows.FirstOrDefault(r => r.Kind == ComparedKind.Buffer && !r.Passed);

    private static LayerComparison Compare(int index, ComparedKind kind, string referenceName, Tensor expected,
        IReadOnlyDictionary<string, Tensor> ours, IReadOnlyDictionary<string, double> rounding)
    {
        var name = Yolov4TinyMapping.ToTorchSharp(referenceName);
        var shape = expected.shape;
        var referenceMax = expected.numel() == 0 ? 0 : expected.abs().max().item<float>();
        if (!ours.TryGetValue(name, out var actual))
            return new LayerComparison(index, kind, name, referenceName, shape, double.NaN, double.NaN, referenceMax, StrictAtol, StrictRtol, false, null,
                "our model has no such tensor: the architectures differ here");
        // PyBridge reads 0-dim tensors (the loss terms) as shape [1].
        if (actual.numel() != expected.numel() || (actual.dim() > 0 && !actual.shape.SequenceEqual(shape)))
            return new LayerComparison(index, kind, name, referenceName, shape, double.NaN, double.NaN, referenceMax, StrictAtol, StrictRtol, false, null,
                $"shape [{string.Join(", ", actual.shape)}] against the reference's [{string.Join(", ", shape)}]");

        using var a = actual.detach().to(float64).reshape(-1);
        using var e = expected.to(float64).reshape(-1);
        using var diff = (a - e).abs();
        using var magnitude = e.abs();
        var maxAbs = diff.numel() == 0 ? 0 : diff.max().item<double>();
        if (!double.IsFinite(maxAbs) || a.isnan().any().item<bool>()) maxAbs = double.PositiveInfinity;
        using var significant = magnitude > StrictAtol;
        var maxRel = significant.any().item<bool>() ? (diff.masked_select(significant) / magnitude.masked_select(significant)).max().item<double>() : 0;
        if (double.IsNaN(maxRel)) maxRel = double.PositiveInfinity;

        bool Within(double atol) => double.IsFinite(maxAbs) && (diff <= atol + StrictRtol * magnitude).all().item<bool>();
        if (Within(StrictAtol))
            return new LayerComparison(index, kind, name, referenceName, shape, maxAbs, maxRel, referenceMax, StrictAtol, StrictRtol, true, null, null);
        var r = rounding.GetValueOrDefault(referenceName);
        var loose = StrictAtol + RoundingAllowance * r;
        var passed = r > 0 && Within(loose);
        var reason = r > 0 ? $"float32 rounding: the reference is {r:G3} from float64 here; allowed 1e-5 + 8 x {r:G3}" : null;
        return new LayerComparison(index, kind, name, referenceName, shape, maxAbs, maxRel, referenceMax, loose, StrictRtol, passed, reason, null);
    }
}
