using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Portal.Training.Models;

/// <summary>
/// A small one-stage, YOLO-style detector: a conv backbone down to stride 8 and a 1x1 head that predicts, for
/// every grid cell and anchor, (tx, ty, tw, th, objectness, class logits...). Output [B, A, G, G, 5 + C].
/// </summary>
public sealed class TinyYolo : Module<Tensor, Tensor>
{
    private readonly Sequential backbone;
    private readonly Conv2d head;
    private readonly int anchors;
    private readonly int classes;

    public TinyYolo(int classes, int anchors, int width = 16) : base(nameof(TinyYolo))
    {
        this.anchors = anchors;
        this.classes = classes;
        backbone = Sequential(
            ConvBlock(3, width), MaxPool2d(2),
            ConvBlock(width, width * 2), MaxPool2d(2),
            ConvBlock(width * 2, width * 4), MaxPool2d(2),
            ConvBlock(width * 4, width * 4));
        head = Conv2d(width * 4, anchors * (5 + classes), 1);
        RegisterComponents();
    }

    private static Sequential ConvBlock(int input, int output) =>
        Sequential(Conv2d(input, output, 3, padding: 1, bias: false), BatchNorm2d(output), LeakyReLU(0.1));

    public override Tensor forward(Tensor input)
    {
        using var features = backbone.call(input);
        using var raw = head.call(features);
        var (b, g1, g2) = (raw.shape[0], raw.shape[2], raw.shape[3]);
        using var view = raw.view(b, anchors, 5 + classes, g1, g2);
        return view.permute(0, 1, 3, 4, 2).contiguous();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            backbone.Dispose();
            head.Dispose();
        }
        base.Dispose(disposing);
    }
}
