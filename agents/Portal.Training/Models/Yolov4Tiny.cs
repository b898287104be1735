using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Portal.Training.Models;

/// <summary>How a convolution pads its borders: PyTorch/Darknet pad k/2 on every side; TensorFlow's "same" pads a
/// stride-2 convolution only at the bottom and right.</summary>
public enum ConvPadding { Symmetric, TensorFlowSame }

public enum Upsampling { Nearest, Bilinear }

/// <summary>
/// The settings of <see cref="Yolov4Tiny"/>. The defaults are those of the paper's Darknet configuration
/// (yolov4-tiny.cfg). The other values exist so the differential test can show what a cross-framework mistake
/// looks like (a TensorFlow batch-norm epsilon, PyTorch's default leaky slope, TensorFlow padding, bilinear upsampling).
/// </summary>
public sealed record Yolov4TinyOptions
{
    public int Classes { get; init; } = 80;
    public double BatchNormEpsilon { get; init; } = 1e-5;
    /// <summary>PyTorch convention (weight of the new batch statistics); Darknet updates its rolling statistics by .99/.01.</summary>
    public double BatchNormMomentum { get; init; } = 0.01;
    public double LeakySlope { get; init; } = 0.1;
    public ConvPadding Padding { get; init; } = ConvPadding.Symmetric;
    public Upsampling Upsampling { get; init; } = Upsampling.Nearest;
}

/// <summary>Named intermediate outputs of one forward pass, in the order they were computed.</summary>
public sealed class LayerTaps
{
    private readonly List<(string Name, Tensor Value)> entries = [];

    public IReadOnlyList<(string Name, Tensor Value)> Entries => entries;

    public Tensor Record(string name, Tensor value)
    {
        entries.Add((name, value));
        return value;
    }
}

/// <summary>Convolution without bias, batch norm, leaky ReLU: Darknet's [convolutional] with batch_normalize=1.</summary>
public sealed class ConvBnLeaky : Module<Tensor, Tensor>
{
    private readonly Conv2d conv;
    private readonly BatchNorm2d bn;
    private readonly double slope;
    private readonly long[]? tensorFlowPad;

    public ConvBnLeaky(int input, int output, int kernel, int stride, Yolov4TinyOptions options) : base(nameof(ConvBnLeaky))
    {
        var tfSame = options.Padding == ConvPadding.TensorFlowSame && stride > 1;
        conv = Conv2d(input, output, kernel, stride: stride, padding: tfSame ? 0 : kernel / 2, bias: false);
        // TensorFlow's "same" at stride 2 on an even input pads k - 2 in total, all of it after (right and bottom).
        tensorFlowPad = tfSame ? [0, kernel - stride, 0, kernel - stride] : null;
        bn = BatchNorm2d(output, eps: options.BatchNormEpsilon, momentum: options.BatchNormMomentum);
        slope = options.LeakySlope;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => Forward(input, null, "");

    public Tensor Forward(Tensor input, LayerTaps? taps, string name)
    {
        var padded = tensorFlowPad is null ? input : functional.pad(input, tensorFlowPad);
        var x = Tap(taps, name + ".conv", conv.call(padded));
        x = Tap(taps, name + ".bn", bn.call(x));
        return Tap(taps, name + ".act", functional.leaky_relu(x, slope));
    }

    internal static Tensor Tap(LayerTaps? taps, string name, Tensor value) => taps is null ? value : taps.Record(name, value);

    protected override void Dispose(bool disposing)
    {
        if (disposing) { conv.Dispose(); bn.Dispose(); }
        base.Dispose(disposing);
    }
}

/// <summary>
/// The CSP-style block of the tiny backbone (Darknet layers 2-9, 10-17, 18-25): a 3x3 conv, a route that keeps the
/// second half of its channels (groups=2, group_id=1), two 3x3 convs, a route of both, a 1x1 conv, a route with the
/// first conv, and a 2x2 max pool. Returns the pooled output and the 1x1 conv's output (the stride-16 feature).
/// </summary>
public sealed class CspTinyBlock : Module<Tensor, Tensor>
{
    private readonly ConvBnLeaky conv1;
    private readonly ConvBnLeaky conv2;
    private readonly ConvBnLeaky conv3;
    private readonly ConvBnLeaky conv4;

    public CspTinyBlock(int channels, Yolov4TinyOptions options) : base(nameof(CspTinyBlock))
    {
        conv1 = new ConvBnLeaky(channels, channels, 3, 1, options);
        conv2 = new ConvBnLeaky(channels / 2, channels / 2, 3, 1, options);
        conv3 = new ConvBnLeaky(channels / 2, channels / 2, 3, 1, options);
        conv4 = new ConvBnLeaky(channels, channels, 1, 1, options);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => Forward(input, null, "").Output;

    public (Tensor Output, Tensor Feature) Forward(Tensor input, LayerTaps? taps, string name)
    {
        var x1 = conv1.Forward(input, taps, name + ".conv1");
        var half = x1.shape[1] / 2;
        var split = ConvBnLeaky.Tap(taps, name + ".split", x1.narrow(1, half, half));
        var x2 = conv2.Forward(split, taps, name + ".conv2");
        var x3 = conv3.Forward(x2, taps, name + ".conv3");
        var x4 = conv4.Forward(ConvBnLeaky.Tap(taps, name + ".route1", cat([x3, x2], 1)), taps, name + ".conv4");
        var route = ConvBnLeaky.Tap(taps, name + ".route2", cat([x1, x4], 1));
        return (ConvBnLeaky.Tap(taps, name + ".pool", functional.max_pool2d(route, 2, 2)), x4);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) { conv1.Dispose(); conv2.Dispose(); conv3.Dispose(); conv4.Dispose(); }
        base.Dispose(disposing);
    }
}

/// <summary>The tiny backbone: two stride-2 convs, three CSP-tiny blocks, a 3x3 conv to 512 channels (stride 32).</summary>
public sealed class TinyBackbone : Module<Tensor, Tensor>
{
    private readonly ConvBnLeaky stem0;
    private readonly ConvBnLeaky stem1;
    private readonly CspTinyBlock block1;
    private readonly CspTinyBlock block2;
    private readonly CspTinyBlock block3;
    private readonly ConvBnLeaky final;

    public TinyBackbone(Yolov4TinyOptions options) : base(nameof(TinyBackbone))
    {
        stem0 = new ConvBnLeaky(3, 32, 3, 2, options);
        stem1 = new ConvBnLeaky(32, 64, 3, 2, options);
        block1 = new CspTinyBlock(64, options);
        block2 = new CspTinyBlock(128, options);
        block3 = new CspTinyBlock(256, options);
        final = new ConvBnLeaky(512, 512, 3, 1, options);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => Forward(input, null, "").Stride32;

    public (Tensor Stride32, Tensor Stride16) Forward(Tensor input, LayerTaps? taps, string name)
    {
        var x = stem0.Forward(input, taps, name + ".stem0");
        x = stem1.Forward(x, taps, name + ".stem1");
        x = block1.Forward(x, taps, name + ".block1").Output;
        x = block2.Forward(x, taps, name + ".block2").Output;
        var (pooled, feature16) = block3.Forward(x, taps, name + ".block3");
        return (final.Forward(pooled, taps, name + ".final"), feature16);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) { stem0.Dispose(); stem1.Dispose(); block1.Dispose(); block2.Dispose(); block3.Dispose(); final.Dispose(); }
        base.Dispose(disposing);
    }
}

/// <summary>
/// YOLOv4-tiny (Bochkovskiy et al. and the Darknet configuration yolov4-tiny.cfg): the tiny backbone, a 1x1 lateral
/// conv, a stride-32 head, and a stride-16 head fed by the lateral conv upsampled and routed with the backbone's
/// stride-16 feature. Returns the raw outputs of both heads, [B, 3 * (5 + classes), S/32, S/32] and [.., S/16, S/16].
/// </summary>
public sealed class Yolov4Tiny : Module<Tensor, (Tensor Stride32, Tensor Stride16)>
{
    public static readonly (double W, double H)[] Anchors416 = [(10, 14), (23, 27), (37, 58), (81, 82), (135, 169), (344, 319)];
    public static readonly int[] Mask32 = [3, 4, 5];
    public static readonly int[] Mask16 = [1, 2, 3];

    private readonly TinyBackbone backbone;
    private readonly ConvBnLeaky lateral32;
    private readonly ConvBnLeaky conv32;
    private readonly Conv2d out32;
    private readonly ConvBnLeaky reduce16;
    private readonly ConvBnLeaky conv16;
    private readonly Conv2d out16;
    private readonly Upsampling upsampling;

    public Yolov4Tiny(Yolov4TinyOptions options) : base(nameof(Yolov4Tiny))
    {
        Options = options;
        var outputs = 3 * (5 + options.Classes);
        backbone = new TinyBackbone(options);
        lateral32 = new ConvBnLeaky(512, 256, 1, 1, options);
        conv32 = new ConvBnLeaky(256, 512, 3, 1, options);
        out32 = Conv2d(512, outputs, 1);
        reduce16 = new ConvBnLeaky(256, 128, 1, 1, options);
        conv16 = new ConvBnLeaky(384, 256, 3, 1, options);
        out16 = Conv2d(256, outputs, 1);
        upsampling = options.Upsampling;
        RegisterComponents();
    }

    public Yolov4TinyOptions Options { get; }

    /// <summary>Darknet's anchors are in pixels of a 416 input; other input sizes scale them.</summary>
    public static (double W, double H)[] AnchorsFor(int inputSize) =>
        Anchors416.Select(a => (a.W * inputSize / 416.0, a.H * inputSize / 416.0)).ToArray();

    public override (Tensor Stride32, Tensor Stride16) forward(Tensor input) => Forward(input, null);

    public (Tensor Stride32, Tensor Stride16) Forward(Tensor input, LayerTaps? taps)
    {
        var (x, feature16) = backbone.Forward(input, taps, "backbone");
        var lateral = lateral32.Forward(x, taps, "lateral32");
        var y32 = ConvBnLeaky.Tap(taps, "out32", out32.call(conv32.Forward(lateral, taps, "conv32")));
        var reduced = reduce16.Forward(lateral, taps, "reduce16");
        var up = ConvBnLeaky.Tap(taps, "upsample", upsampling == Upsampling.Nearest
            ? functional.interpolate(reduced, scale_factor: [2, 2], mode: InterpolationMode.Nearest)
            : functional.interpolate(reduced, scale_factor: [2, 2], mode: InterpolationMode.Bilinear, align_corners: false));
        var route = ConvBnLeaky.Tap(taps, "route16", cat([up, feature16], 1));
        var y16 = ConvBnLeaky.Tap(taps, "out16", out16.call(conv16.Forward(route, taps, "conv16")));
        return (y32, y16);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            backbone.Dispose(); lateral32.Dispose(); conv32.Dispose(); out32.Dispose();
            reduce16.Dispose(); conv16.Dispose(); out16.Dispose();
        }
        base.Dispose(disposing);
    }
}
