using System.Diagnostics;
using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Portal.Training.Numerics;

/// <summary>One result the check compared: an operation's forward output or one of its gradients.</summary>
public sealed record NumericCheckItem(string Operation, string Shape, double MaxAbsError, double MaxRelError, double WorstRatio, bool Passed)
{
    /// <summary>"conv2d 3x3 (64x16x32x32): weight grad: max abs error 3.1E-006, max rel error 2.0E-005".</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"{Operation} ({Shape}): max abs error {MaxAbsError:G3}, max rel error {MaxRelError:G3}, {WorstRatio:G3} of the allowed error");
}

/// <summary>What one pass of the check found, with the libtorch threads and device it ran on.</summary>
public sealed record NumericCheckResult(string Device, int Threads, IReadOnlyList<NumericCheckItem> Items, TimeSpan Elapsed)
{
    public bool Passed => Items.All(i => i.Passed);
    public NumericCheckItem? FirstFailure => Items.FirstOrDefault(i => !i.Passed);
}

/// <summary>
/// Checks that this machine's libtorch computes the layers the recipes train with correctly, before an agent takes
/// jobs: each operation's forward output and its input and weight gradients, computed in float32 exactly as the
/// recipes compute them, are compared with the same operation computed in float64 on the same machine from the same
/// (float32-representable) inputs. Kernels are chosen by shape, dtype and thread count, so the shapes are the recipes'
/// own and the check runs with the thread count the agent trains with.
/// </summary>
/// <remarks>
/// Why float64 is a valid reference: libtorch's float32 CPU convolutions, batch norm and pooling go through oneDNN
/// (or ATen's vectorised kernels chosen by the CPU's ISA), which is where a CPU-specific fault shows. oneDNN has no
/// float64 kernels, so the float64 calls take ATen's reference paths (im2col + double GEMM, scalar batch norm): a
/// different implementation, and 29 more bits of precision, so its error is negligible against float32's and a
/// float32 result far from it is wrong. The tolerance is explained at Gamma and in <c>docs/decisions/*numeric-self-check.md</c>.
/// </remarks>
public static class NumericSelfCheck
{
    /// <summary>torch.testing.assert_close's float32 defaults, for results that are not long sums.</summary>
    public const double Rtol = 1.3e-6;
    public const double Atol = 1e-5;

    /// <summary>float32's unit roundoff, 2^-24.</summary>
    public const double UnitRoundoff = 5.9604644775390625e-8;

    /// <summary>
    /// Runs every case with libtorch's current thread count on <paramref name="device"/>. <paramref name="tamper"/>
    /// is a seam for tests: it gets each float32 result with its name and returns what is compared.
    /// </summary>
    public static NumericCheckResult Run(Device device, Func<string, Tensor, Tensor>? tamper = null)
    {
        // The check measures the kernels training uses, so it runs under the same CPU configuration: ATen's
        // convolutions, not oneDNN's (docs/decisions/0007). Without this, a check run before anything else in the
        // process had set it would measure oneDNN's kernels, which are wrong for narrow layers on some CPUs.
        if (device.type == DeviceType.CPU) CpuKernels.UseAtenConvolutions();
        var stopwatch = Stopwatch.StartNew();
        var items = new List<NumericCheckItem>();
        var generator = new torch.Generator(20261202);
        // TF32 (cuDNN's default for float32 convolutions on recent GPUs) rounds products' factors to 11 bits.
        var tf32Conv = device.type == DeviceType.CUDA && torch.backends.cudnn.allow_tf32;
        var tf32MatMul = device.type == DeviceType.CUDA && torch.backends.cuda.matmul.allow_tf32;
        using (torch.enable_grad())
        {
            foreach (var c in Cases(tf32Conv, tf32MatMul))
            {
                using var scope = NewDisposeScope();
                items.AddRange(RunCase(c, device, generator, tamper));
            }
        }
        generator.Dispose();
        return new NumericCheckResult(device.type.ToString().ToLowerInvariant(), torch.get_num_threads(), items, stopwatch.Elapsed);
    }

    /// <summary>
    /// One operation: how to make its inputs, the operation itself, and the part of the allowed error that comes
    /// from its sums (per result: the output, then each differentiable input's gradient).
    /// </summary>
    private sealed record Case(
        string Name,
        string Shape,
        Func<Generator, Input[]> Inputs,
        Func<Tensor[], Tensor> Op,
        Func<Tensor[], Tensor[], Tensor, Tensor[]> SumError);

    private sealed record Input(string Name, Tensor Value, bool Differentiable = true);

    private static IEnumerable<Case> Cases(bool tf32Conv, bool tf32MatMul)
    {
        // The classifier (SmallResNet, batch 64, 3x32x32, width 16) and the detector (TinyYolo, batch 32, 3x64x64).
        yield return Conv("conv2d 3x3 stem", 64, 3, 32, 16, 3, 1, 1, bias: false, tf32Conv);
        yield return Conv("conv2d 3x3", 64, 16, 32, 16, 3, 1, 1, bias: false, tf32Conv);
        yield return Conv("conv2d 3x3 stride 2", 64, 16, 32, 32, 3, 2, 1, bias: false, tf32Conv);
        yield return Conv("conv2d 1x1 stride 2", 64, 16, 32, 32, 1, 2, 0, bias: false, tf32Conv);
        yield return Conv("conv2d 1x1 head", 32, 64, 8, 16, 1, 1, 0, bias: true, tf32Conv);
        // Narrow configs (width 4 or 8): channel counts that are not a multiple of 16 took oneDNN's faulty
        // AVX-512 kernels (docs/decisions/0007).
        yield return Conv("conv2d 3x3 narrow", 32, 8, 32, 8, 3, 1, 1, bias: false, tf32Conv);
        yield return BatchNorm(64, 16, 32);
        yield return Elementwise("relu", [64, 16, 32, 32], x => F.relu(x));
        yield return Elementwise("leaky_relu 0.1", [64, 16, 32, 32], x => F.leaky_relu(x, 0.1));
        yield return Elementwise("max_pool2d 2", [64, 16, 32, 32], x => F.max_pool2d(x, [2, 2]));
        yield return Multilinear("adaptive_avg_pool2d 1", "64x64x8x8",
            g => [new Input("input", g.Randn(64, 64, 8, 8))],
            t => F.adaptive_avg_pool2d(t[0], [1, 1]),
            [64, 1], 0);
        yield return Multilinear("linear", "64x64 -> 10",
            g => [new Input("input", g.Randn(64, 64)), new Input("weight", g.Randn(10, 64) * 0.1), new Input("bias", g.Randn(10) * 0.1)],
            t => F.linear(t[0], t[1], t[2]),
            [64 + 1, 10, 64, 64], tf32MatMul ? Tf32Error : 0);
        yield return CrossEntropy(64, 10);
        yield return SumLoss("binary_cross_entropy_with_logits sum", 32 * 128,
            g => [new Input("input", g.Randn(32 * 128) * 3), new Input("target", (g.Rand(32 * 128) < 0.1).to(float32), false)],
            t => F.binary_cross_entropy_with_logits(t[0], t[1], reduction: nn.Reduction.Sum));
        yield return SumLoss("mse_loss sum", 400,
            g => [new Input("input", g.Randn(400)), new Input("target", g.Randn(400), false)],
            t => F.mse_loss(t[0], t[1], nn.Reduction.Sum));
    }

    /// <summary>TF32 rounds both factors of a product to 11 significant bits: up to 2 x 2^-11 relative per term.</summary>
    private const double Tf32Error = 2 * 4.8828125e-4;

    private static Case Conv(string name, int batch, int cin, int size, int cout, int k, int stride, int padding, bool bias, bool tf32)
    {
        var outSize = (size + 2 * padding - k) / stride + 1;
        var inputs = (Generator g) =>
        {
            var list = new List<Input>
            {
                new("input", g.Randn(batch, cin, size, size)),
                new("weight", g.Randn(cout, cin, k, k) * (1.0 / Math.Sqrt(cin * k * k))),
            };
            if (bias) list.Add(new Input("bias", g.Randn(cout) * 0.1));
            return list.ToArray();
        };
        var op = (Tensor[] t) => F.conv2d(t[0], t[1], bias ? t[2] : null, strides: [stride, stride], padding: [padding, padding]);
        // Terms per result: the output sums cin*k*k products (+ bias); an input pixel's gradient at most cout*k*k;
        // a weight's gradient batch*out*out; the bias gradient batch*out*out.
        long[] terms = bias
            ? [cin * k * k + 1, cout * k * k, (long)batch * outSize * outSize, (long)batch * outSize * outSize]
            : [cin * k * k, cout * k * k, (long)batch * outSize * outSize];
        return Multilinear(name, $"{batch}x{cin}x{size}x{size} -> {batch}x{cout}x{outSize}x{outSize}", inputs, op, terms, tf32 ? Tf32Error : 0);
    }

    /// <summary>
    /// An operation linear in each input (convolution, linear, average pooling): every result, the gradients
    /// included, is a sum of products of inputs. Running the float64 operation on the inputs' absolute values
    /// (and the absolute output gradient) gives each result's sum of absolute terms S, and a float32 sum of n terms
    /// is within <see cref="Gamma"/>(n) * S of the exact sum (Higham, Accuracy and Stability of Numerical Algorithms, 3.1).
    /// </summary>
    private static Case Multilinear(string name, string shape, Func<Generator, Input[]> inputs, Func<Tensor[], Tensor> op, long[] terms, double perTermError) =>
        new(name, shape, inputs, op, (x64, _, grad64) =>
        {
            var abs = x64.Select(x => x.abs().detach().requires_grad_(true)).ToArray();
            var y = op(abs);
            y.backward([grad64.abs()]);
            var sums = new[] { y.detach() }.Concat(abs.Select(a => a.grad!)).ToArray();
            return sums.Select((s, i) => s * (Gamma(terms[i]) + perTermError)).ToArray();
        });

    private static Case Elementwise(string name, long[] shape, Func<Tensor, Tensor> op) =>
        new(name, string.Join("x", shape), g => [new Input("input", g.Randn(shape))], t => op(t[0]),
            (x64, results, _) => results.Select(r => torch.zeros_like(r)).ToArray());

    /// <summary>
    /// Batch norm in train mode normalises each channel by its mean and variance over batch*H*W values. Those two
    /// sums carry the float32 error: |d mean| &lt;= gamma_n mean|x| and |d var| &lt;= gamma_n (var + 2 mean|x| mean|x - mean|),
    /// so x_hat = (x - mean) / sigma is off by at most gamma_n (mean|x| + |x_hat| (var + 2 mean|x| mean|x-mean|) / (2 var)) / sigma
    /// per element; the output carries that times |weight|. The backward pass sums dy and dy*x_hat over the same values.
    /// The bounds below add up those terms, each counted with its absolute value.
    /// </summary>
    private static Case BatchNorm(int batch, int channels, int size)
    {
        var n = (long)batch * size * size;
        return new("batch_norm train", $"{batch}x{channels}x{size}x{size}",
            g => [
                new Input("input", g.Randn(batch, channels, size, size) * 2 + 0.5),
                new Input("weight", g.Rand(channels) + 0.5),
                new Input("bias", g.Randn(channels) * 0.1),
            ],
            t => F.batch_norm(t[0], torch.zeros(channels, dtype: t[0].dtype, device: t[0].device), torch.ones(channels, dtype: t[0].dtype, device: t[0].device),
                t[1], t[2], training: true, momentum: 0.1, eps: 1e-5),
            (x64, _, grad64) =>
            {
                var x = x64[0].detach();
                long[] dims = [0, 2, 3];
                var mean = x.mean(dims, keepdim: true);
                var centred = x - mean;
                var variance = centred.square().mean(dims, keepdim: true) + 1e-5;
                var sigma = variance.sqrt();
                var xhat = (centred / sigma).abs();
                var meanAbsX = x.abs().mean(dims, keepdim: true);
                var gamma = Gamma(n);
                // Relative error of sigma and absolute error of x_hat.
                var sigmaRel = gamma * (variance + 2 * meanAbsX * centred.abs().mean(dims, keepdim: true)) / (2 * variance);
                var xhatError = gamma * meanAbsX / sigma + xhat * sigmaRel;
                var w = x64[1].detach().abs().view(1, -1, 1, 1);
                var dy = grad64.abs();
                var meanDy = dy.mean(dims, keepdim: true);
                var meanDyXhat = (dy * xhat).mean(dims, keepdim: true);
                var meanDyError = (dy * xhatError).mean(dims, keepdim: true);
                var output = w * xhatError;
                // grad_x = weight / sigma * (dy - mean(dy) - x_hat * mean(dy * x_hat))
                var gradInput = w / sigma * (gamma * meanDy + xhat * (gamma * meanDyXhat + meanDyError) + xhatError * meanDyXhat
                    + (dy + meanDy + xhat * meanDyXhat) * sigmaRel);
                var gradWeight = (dy * (gamma * xhat + xhatError)).sum(dims);
                var gradBias = dy.sum(dims) * gamma;
                return [output, gradInput, gradWeight, gradBias];
            });
    }

    private static Case CrossEntropy(int batch, int classes) =>
        new("cross_entropy", $"{batch}x{classes}",
            g => [new Input("input", g.Randn(batch, classes) * 3), new Input("target", (g.Rand(batch) * classes).to(int64).clamp(0, classes - 1), false)],
            t => F.cross_entropy(t[0], t[1]),
            (x64, _, grad64) =>
            {
                // loss = mean(logsumexp(z) - z[target]): sums of `classes` exponentials and `batch` terms.
                var z = x64[0].detach();
                var lse = z.logsumexp(1);
                var picked = z.gather(1, x64[1].unsqueeze(1)).squeeze(1);
                var loss = (lse.abs() + picked.abs()).mean() * (Gamma(batch) + Gamma(classes + 2));
                // grad = (softmax(z) - onehot(target)) / batch * dy: each softmax value is off by gamma_classes relative.
                var grad = z.softmax(1) * Gamma(classes + 2) / batch * grad64.abs();
                return [loss, grad];
            });

    /// <summary>A loss summed over non-negative terms: the sum is its own sum of absolute terms; the gradient is elementwise.</summary>
    private static Case SumLoss(string name, long count, Func<Generator, Input[]> inputs, Func<Tensor[], Tensor> op) =>
        new(name, count.ToString(CultureInfo.InvariantCulture), inputs, op,
            (x64, results, _) => [results[0].abs() * Gamma(count), torch.zeros_like(results[1])]);

    /// <summary>How many standard deviations of rounding error a sum may show before it counts as wrong.</summary>
    public const double Lambda = 10;

    /// <summary>
    /// The relative error bound of a sum of n float32 terms, as a fraction of the sum of their absolute values:
    /// lambda * sqrt(n) * u (Higham and Mary, "A New Approach to Probabilistic Rounding Error Analysis", SIAM J. Sci.
    /// Comput. 41(5), 2019: exceeded with probability below 2n exp(-lambda^2/2), 1e-16 for n = 65536), and never
    /// more than the worst case n * u of recursive summation. The worst case alone would let a conv weight gradient
    /// over 65536 terms be off by as much as its own size, which is what a lost partial sum looks like; blocked and
    /// pairwise summation, as BLAS and oneDNN do, stay well inside the probabilistic bound.
    /// </summary>
    private static double Gamma(long n) => Math.Min(n, Lambda * Math.Sqrt(n)) * UnitRoundoff;

    private static IEnumerable<NumericCheckItem> RunCase(Case c, Device device, Generator generator, Func<string, Tensor, Tensor>? tamper)
    {
        var inputs = c.Inputs(generator);
        var differentiable = inputs.Where(i => i.Differentiable).Select(i => i.Name).ToArray();
        var (results32, grad32) = Evaluate(c, inputs, float32, device);
        var (results64, grad64) = Evaluate(c, inputs, float64, device);
        var x64 = inputs.Select(i => Leaf(i, float64, device)).ToArray();
        var sumErrors = c.SumError(x64, results64, grad64);
        for (var r = 0; r < results32.Length; r++)
        {
            var label = r == 0 ? $"{c.Name}: output" : $"{c.Name}: {differentiable[r - 1]} grad";
            var result = tamper is null ? results32[r] : tamper(label, results32[r]);
            yield return Compare(label, c.Shape, result.to(float64), results64[r], sumErrors[r]);
        }
    }

    /// <summary>The output and the gradients of the differentiable inputs, for a fixed seeded output gradient.</summary>
    private static (Tensor[] Results, Tensor OutputGrad) Evaluate(Case c, Input[] inputs, ScalarType dtype, Device device)
    {
        var leaves = inputs.Select(i => Leaf(i, dtype, device)).ToArray();
        var output = c.Op(leaves);
        // The same output gradient for both precisions: a fixed pattern exactly representable in float32.
        var grad = OutputGradient(output.shape).to(dtype).to(device);
        output.backward([grad]);
        var results = new[] { output.detach() }.Concat(leaves.Where(l => l.requires_grad).Select(l => l.grad!)).ToArray();
        return (results, grad);
    }

    private static Tensor Leaf(Input input, ScalarType dtype, Device device)
    {
        if (!input.Differentiable) return input.Value.dtype == int64 ? input.Value.to(device) : input.Value.to(dtype).to(device);
        return input.Value.to(dtype).to(device).detach().requires_grad_(true);
    }

    private static Tensor OutputGradient(long[] shape)
    {
        if (shape.Length == 0) return torch.tensor(1f);
        var count = shape.Aggregate(1L, (a, b) => a * b);
        // Values in [-1, 1) on a 1/64 grid, varying so that no sum cancels by construction.
        return ((torch.arange(count, dtype: int64) * 37 % 128 - 64).to(float32) / 64).reshape(shape);
    }

    private static NumericCheckItem Compare(string label, string shape, Tensor actual, Tensor expected, Tensor sumError)
    {
        actual = actual.cpu();
        expected = expected.cpu();
        var error = (actual - expected).abs();
        var allowed = Atol + Rtol * expected.abs() + sumError.cpu();
        var finite = actual.isfinite().all().item<bool>() || !expected.isfinite().all().item<bool>();
        var maxAbs = finite ? error.max().item<double>() : double.PositiveInfinity;
        var rel = error / expected.abs().clamp_min(Atol);
        var maxRel = finite ? rel.max().item<double>() : double.PositiveInfinity;
        var ratio = finite ? (error / allowed).max().item<double>() : double.PositiveInfinity;
        return new NumericCheckItem(label, shape, maxAbs, maxRel, ratio, finite && ratio <= 1);
    }

    private static Tensor Randn(this Generator g, params long[] shape) => torch.randn(shape, generator: g);
    private static Tensor Rand(this Generator g, params long[] shape) => torch.rand(shape, generator: g);
}
