using Portal.Training.Models;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Portal.Training.Differential;

/// <summary>
/// Names the likely cause at the first diverging tensor, from the usual cross-framework faults: it recomputes the
/// layer from the reference's own input and weights under each candidate setting (padding, batch-norm epsilon,
/// leaky slope, upsampling mode, which half a split keeps) in float64 and says which one our output fits; it checks
/// whether our weights still equal the reference's; and it estimates the batch-norm momentum from the running
/// statistics. Where nothing fits it says what to look at.
/// </summary>
public static class LikelyCauses
{
    public static string Diagnose(LayerComparison first, ReferenceFolder reference, IReadOnlyDictionary<string, Tensor> ours, Yolov4Tiny model)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        if (first.Note is { } structural) return "Structure: " + structural + ".";
        var name = first.ReferenceName;
        return first.Kind switch
        {
            ComparedKind.Forward => ForwardCause(name, reference, ours, model),
            ComparedKind.Loss => $"The loss ('{name}') differs though every layer output agrees: check the box decoding (scale_x_y 1.05, " +
                                 "anchors), the target assignment (best anchor of all six, its head's mask), the CIoU term, the ignore threshold and the reduction.",
            ComparedKind.Gradient => $"The forward outputs and the loss agree but the gradient of '{first.Name}' differs: a term detached on one side " +
                                     "(CIoU's alpha is held constant in the reference), a custom backward, or a different reduction.",
            _ => MomentumCause(name, reference, model),
        };
    }

    private static string ForwardCause(string name, ReferenceFolder reference, IReadOnlyDictionary<string, Tensor> ours, Yolov4Tiny model)
    {
        var mine = ours[Yolov4TinyMapping.ToTorchSharp(name)].to(float64);
        var prefix = name.Contains('.') ? name[..name.LastIndexOf('.')] : name;
        var op = name[(name.LastIndexOf('.') + 1)..];
        var state = model.state_dict();

        string? changed = ChangedWeights(reference, state, name);
        if (changed is not null) return changed;

        switch (op)
        {
            case "conv":
            {
                var weight = reference.StateDict[prefix + ".conv.weight"].to(float64);
                var input = LayerInput(name, reference).to(float64);
                var stride = prefix is "conv0" or "conv1" ? 2 : 1;
                var k = (int)weight.shape[2];
                var symmetric = F.conv2d(input, weight, null, [stride, stride], [k / 2, k / 2]);
                var tf = F.conv2d(F.pad(input, [0, k - stride, 0, k - stride]), weight, null, [stride, stride]);
                var (dSym, dTf) = (Distance(mine, symmetric), Distance(mine, tf));
                if (stride > 1 && dTf < dSym / 100)
                    return $"Padding at borders: our output fits TensorFlow's \"same\" padding (all of it at the bottom and right, max error {dTf:G2}) " +
                           $"where the reference pads every side by {k / 2} as PyTorch and Darknet do.";
                var border = BorderShare(mine, reference.Layers[name].to(float64));
                if (border > 0.9)
                    return "Padding at borders: the error lies in the outer rows and columns only; check the padding mode and size.";
                return "The convolution differs though its input and weights agree: check its stride, padding, dilation and groups, " +
                       "and the channel order of the input (NCHW against NHWC).";
            }
            case "bn":
            {
                var input = reference.Layers[prefix + ".conv"].to(float64);
                var weight = reference.StateDict[prefix + ".bn.weight"].to(float64);
                var bias = reference.StateDict[prefix + ".bn.bias"].to(float64);
                var mean = input.mean([0, 2, 3], keepdim: true);
                var variance = input.var([0, 2, 3], unbiased: false, keepdim: true);
                double[] candidates = [1e-5, 1e-3, 1e-4, 1e-6, 1.001e-5];
                var fits = candidates.Select(eps => (eps, d: Distance(mine,
                    (input - mean) / (variance + eps).sqrt() * weight.view(1, -1, 1, 1) + bias.view(1, -1, 1, 1)))).OrderBy(x => x.d).First();
                if (Math.Abs(fits.eps - reference.Manifest.BatchNormEpsilon) > 1e-12 * fits.eps)
                    return $"Batch-norm epsilon: our output fits eps {fits.eps:G4} (max error {fits.d:G2}) where the reference uses {reference.Manifest.BatchNormEpsilon:G4} " +
                           "(PyTorch's default is 1e-5, TensorFlow/Keras' 1e-3).";
                return "Batch normalisation differs though its input, weight and bias agree: check that training mode normalises with the batch's " +
                       "statistics (biased variance) and inference with the running ones, and the epsilon.";
            }
            case "act":
            {
                var input = reference.Layers[prefix + ".bn"].to(float64);
                var negative = input < -1e-3;
                if (!negative.any().item<bool>()) return "The activation differs; its input has no negative values to estimate a slope from.";
                var slope = (mine.masked_select(negative) / input.masked_select(negative)).median().item<double>();
                if (Math.Abs(slope - reference.Manifest.LeakySlope) > 1e-3)
                    return $"Activation slope: where the input is negative our output fits a leaky ReLU slope of {slope:G3}; the reference uses " +
                           $"{reference.Manifest.LeakySlope:G3} (Darknet's 0.1; PyTorch's default is 0.01).";
                return "The activation differs where its input is positive: check the activation function (leaky ReLU, not ReLU6 or Mish).";
            }
            case "upsample":
            {
                var input = reference.Layers["up_conv.act"].to(float64);
                var nearest = F.interpolate(input, scale_factor: [2, 2], mode: InterpolationMode.Nearest);
                var bilinear = F.interpolate(input, scale_factor: [2, 2], mode: InterpolationMode.Bilinear, align_corners: false);
                var (dn, db) = (Distance(mine, nearest), Distance(mine, bilinear));
                if (db < dn / 100) return $"Upsampling mode: our output fits bilinear interpolation (max error {db:G2}); the reference upsamples by nearest neighbour.";
                return "The upsampling differs: check its scale factor, mode and align_corners.";
            }
            case "split":
            {
                var input = reference.Layers[prefix + ".conv1.act"].to(float64);
                var half = input.shape[1] / 2;
                if (mine.shape.SequenceEqual(input.narrow(1, 0, half).shape) && Distance(mine, input.narrow(1, 0, half)) < 1e-4)
                    return "Route groups: our split keeps the first half of the channels; Darknet's groups=2, group_id=1 keeps the second.";
                return "The channel split differs: check which half it keeps and the channel order.";
            }
            case "route1" or "route2" or "route16":
                return "A route (concatenation) differs though its inputs agree: check the order of the concatenated tensors and the channel axis.";
            case "pool":
                return "The max pool differs though its input agrees: check its size, stride and padding.";
            case "out32" or "out16" or "head32_out" or "head16_out":
            default:
                return "The output convolution differs though its input and weights agree: check its bias and the channel order of the anchors' outputs.";
        }
    }

    /// <summary>When the diverging layer's own weights differ from the reference's after loading, that is the cause.</summary>
    private static string? ChangedWeights(ReferenceFolder reference, IReadOnlyDictionary<string, Tensor> state, string layer)
    {
        var module = layer.EndsWith(".conv", StringComparison.Ordinal) ? layer[..^5] + ".conv."
            : layer.EndsWith(".bn", StringComparison.Ordinal) ? layer[..^3] + ".bn."
            : layer is "head32_out" or "head16_out" ? layer + "." : null;
        if (module is null) return null;
        foreach (var (referenceName, ourName) in Yolov4TinyMapping.Tensors.Where(t => t.Reference.StartsWith(module, StringComparison.Ordinal) && !t.Reference.Contains("running") && !t.Reference.Contains("num_batches")))
        {
            var ourTensor = state[ourName].to(float64).reshape(-1);
            var theirs = reference.StateDict[referenceName].to(float64).reshape(-1);
            var differing = (ourTensor - theirs).abs().gt(0).sum().item<long>();
            if (differing > 0)
                return $"Weights: {differing} element(s) of our '{ourName}' differ from the reference's '{referenceName}' after loading " +
                       "(a perturbed tensor, or weights loaded into the wrong layer).";
        }
        return null;
    }

    private static string MomentumCause(string name, ReferenceFolder reference, Yolov4Tiny model)
    {
        var prefix = name[..name.LastIndexOf(".bn.", StringComparison.Ordinal)];
        if (!name.EndsWith("running_mean", StringComparison.Ordinal) || !reference.Layers.TryGetValue(prefix + ".conv", out var input))
            return "The running statistics after the step differ: check the batch-norm momentum and whether the variance update is unbiased.";
        var old = reference.StateDict[name].to(float64);
        var mine = model.state_dict()[Yolov4TinyMapping.ToTorchSharp(name)].to(float64);
        var batch = input.to(float64).mean([0, 2, 3]);
        var denominator = batch - old;
        var usable = denominator.abs() > 1e-3;
        var momentum = ((mine - old).masked_select(usable) / denominator.masked_select(usable)).median().item<double>();
        return $"Batch-norm momentum: the running statistics after one step fit momentum {momentum:G3} (PyTorch's convention, the weight " +
               $"of the new batch); the reference uses {reference.Manifest.BatchNormMomentum:G3}. TensorFlow's momentum 0.99 is a decay: 0.01 here.";
    }

    private static Tensor LayerInput(string convLayer, ReferenceFolder reference)
    {
        if (convLayer == "conv0.conv") return reference.Images;
        if (convLayer == "up_conv.conv") return reference.Layers["head32_conv1.act"];
        var names = reference.Manifest.Layers;
        return reference.Layers[names[Array.IndexOf(names, convLayer) - 1]];
    }

    private static double Distance(Tensor a, Tensor b) =>
        a.shape.SequenceEqual(b.shape) ? (a - b).abs().max().item<double>() : double.PositiveInfinity;

    /// <summary>The share of the error (sum of absolute differences) in the outer row and column on each side.</summary>
    private static double BorderShare(Tensor a, Tensor b)
    {
        if (!a.shape.SequenceEqual(b.shape) || a.dim() != 4 || a.shape[2] < 3 || a.shape[3] < 3) return 0;
        var error = (a - b).abs().sum([0, 1]);
        var total = error.sum().item<double>();
        if (total == 0) return 0;
        var inner = error.narrow(0, 1, error.shape[0] - 2).narrow(1, 1, error.shape[1] - 2).sum().item<double>();
        return (total - inner) / total;
    }
}
