using TorchSharp;
using static TorchSharp.torch;

namespace Portal.Training.Differential;

/// <summary>The mapping refused the reference's tensors; the message lists every problem.</summary>
public sealed class MappingException(string message) : DifferentialException(message);

/// <summary>
/// The explicit name mapping between the PyTorch reference of YOLOv4-tiny (agents/reference/yolov4_tiny.py) and
/// <see cref="Models.Yolov4Tiny"/>: module by module, the reference's prefix and ours. The same prefixes translate
/// the names of layer outputs and of gradients.
/// </summary>
public static class Yolov4TinyMapping
{
    private enum Kind { ConvBn, ConvBias, Layer }

    private static readonly (string Reference, string TorchSharp, Kind Kind)[] Modules = BuildModules();

    private static (string, string, Kind)[] BuildModules()
    {
        var list = new List<(string, string, Kind)>
        {
            ("conv0", "backbone.stem0", Kind.ConvBn),
            ("conv1", "backbone.stem1", Kind.ConvBn),
        };
        for (var b = 1; b <= 3; b++)
        {
            for (var c = 1; c <= 4; c++) list.Add(($"block{b}.conv{c}", $"backbone.block{b}.conv{c}", Kind.ConvBn));
            foreach (var op in new[] { "split", "route1", "route2", "pool" }) list.Add(($"block{b}.{op}", $"backbone.block{b}.{op}", Kind.Layer));
        }
        list.AddRange([
            ("conv2", "backbone.final", Kind.ConvBn),
            ("head32_conv1", "lateral32", Kind.ConvBn),
            ("head32_conv2", "conv32", Kind.ConvBn),
            ("head32_out", "out32", Kind.ConvBias),
            ("up_conv", "reduce16", Kind.ConvBn),
            ("upsample", "upsample", Kind.Layer),
            ("route16", "route16", Kind.Layer),
            ("head16_conv", "conv16", Kind.ConvBn),
            ("head16_out", "out16", Kind.ConvBias),
            ("loss", "loss", Kind.Layer),
        ]);
        return list.ToArray();
    }

    /// <summary>Every state_dict entry: reference name and ours.</summary>
    public static IReadOnlyList<(string Reference, string TorchSharp)> Tensors { get; } = Modules.SelectMany(m => m.Kind switch
    {
        Kind.ConvBn => new[] { "conv.weight", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked" }
            .Select(s => ($"{m.Reference}.{s}", $"{m.TorchSharp}.{s}")),
        Kind.ConvBias => new[] { "weight", "bias" }.Select(s => ($"{m.Reference}.{s}", $"{m.TorchSharp}.{s}")),
        _ => [],
    }).ToArray();

    /// <summary>Our name of a reference layer output, parameter or buffer (by the longest matching module prefix).</summary>
    public static string ToTorchSharp(string referenceName)
    {
        foreach (var (reference, ours, _) in Modules.OrderByDescending(m => m.Reference.Length))
            if (referenceName == reference || referenceName.StartsWith(reference + ".", StringComparison.Ordinal))
                return ours + referenceName[reference.Length..];
        throw new MappingException($"'{referenceName}' belongs to no module of the mapping.");
    }

    /// <summary>
    /// Copies the reference's state_dict into the model. Refuses, before copying anything, a reference tensor the
    /// mapping does not know, a tensor of ours that nothing maps to, a tensor the reference lacks, and a shape
    /// that differs. PyBridge reads a 0-dim tensor as shape [1], so a scalar of ours takes a one-element tensor.
    /// </summary>
    public static void Load(nn.Module model, IReadOnlyDictionary<string, Tensor> referenceState)
    {
        var ours = model.state_dict();
        var problems = new List<string>();
        var mappedReference = Tensors.Select(t => t.Reference).ToHashSet();
        var mappedOurs = Tensors.Select(t => t.TorchSharp).ToHashSet();
        foreach (var name in referenceState.Keys.Where(k => !mappedReference.Contains(k)).Order())
            problems.Add($"the reference tensor '{name}' is not in the mapping (an extra or renamed layer?)");
        foreach (var name in ours.Keys.Where(k => !mappedOurs.Contains(k)).Order())
            problems.Add($"our tensor '{name}' is not in the mapping");
        foreach (var (reference, torchSharp) in Tensors)
        {
            if (!referenceState.TryGetValue(reference, out var source))
            {
                problems.Add($"the reference has no tensor '{reference}' (for our '{torchSharp}')");
                continue;
            }
            if (!ours.TryGetValue(torchSharp, out var target))
            {
                problems.Add($"the model has no tensor '{torchSharp}' (for the reference's '{reference}')");
                continue;
            }
            var scalar = target.dim() == 0 && source.numel() == 1;
            if (!scalar && !source.shape.SequenceEqual(target.shape))
                problems.Add($"'{reference}' has shape [{string.Join(", ", source.shape)}] in the reference but our '{torchSharp}' is [{string.Join(", ", target.shape)}]");
            else if (source.dtype != target.dtype)
                problems.Add($"'{reference}' is {source.dtype} in the reference but our '{torchSharp}' is {target.dtype}");
        }
        if (problems.Count > 0)
            throw new MappingException($"The reference weights do not map onto the model ({problems.Count} problem(s)): " + string.Join("; ", problems) + ".");

        using var noGrad = no_grad();
        foreach (var (reference, torchSharp) in Tensors)
        {
            var target = ours[torchSharp];
            target.copy_(referenceState[reference].reshape(target.shape).to(target.device));
        }
    }
}
