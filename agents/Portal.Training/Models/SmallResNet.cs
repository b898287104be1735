using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Portal.Training.Models;

/// <summary>A ResNet-style classifier: a stem, three basic residual blocks (the last two stride 2), pooling, a linear head.</summary>
public sealed class SmallResNet : Module<Tensor, Tensor>
{
    private readonly Sequential stem;
    private readonly BasicBlock block1;
    private readonly BasicBlock block2;
    private readonly BasicBlock block3;
    private readonly AdaptiveAvgPool2d pool;
    private readonly Linear fc;

    public SmallResNet(int classes, int width = 16) : base(nameof(SmallResNet))
    {
        stem = Sequential(Conv2d(3, width, 3, padding: 1, bias: false), BatchNorm2d(width), ReLU());
        block1 = new BasicBlock("block1", width, width, 1);
        block2 = new BasicBlock("block2", width, width * 2, 2);
        block3 = new BasicBlock("block3", width * 2, width * 4, 2);
        pool = AdaptiveAvgPool2d(1);
        fc = Linear(width * 4, classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var x0 = stem.call(input);
        using var x1 = block1.call(x0);
        using var x2 = block2.call(x1);
        using var x3 = block3.call(x2);
        using var pooled = pool.call(x3);
        using var flat = pooled.flatten(1);
        return fc.call(flat);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            stem.Dispose(); block1.Dispose(); block2.Dispose(); block3.Dispose(); pool.Dispose(); fc.Dispose();
        }
        base.Dispose(disposing);
    }

    private sealed class BasicBlock : Module<Tensor, Tensor>
    {
        private readonly Conv2d conv1;
        private readonly BatchNorm2d bn1;
        private readonly Conv2d conv2;
        private readonly BatchNorm2d bn2;
        private readonly Sequential? shortcut;

        public BasicBlock(string name, int input, int output, int stride) : base(name)
        {
            conv1 = Conv2d(input, output, 3, stride: stride, padding: 1, bias: false);
            bn1 = BatchNorm2d(output);
            conv2 = Conv2d(output, output, 3, padding: 1, bias: false);
            bn2 = BatchNorm2d(output);
            if (stride != 1 || input != output)
                shortcut = Sequential(Conv2d(input, output, 1, stride: stride, bias: false), BatchNorm2d(output));
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            using var a = conv1.call(input);
            using var b = bn1.call(a);
            using var c = functional.relu(b);
            using var d = conv2.call(c);
            using var e = bn2.call(d);
            using var identity = shortcut is null ? input.alias() : shortcut.call(input);
            using var sum = e.add(identity);
            return functional.relu(sum);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                conv1.Dispose(); bn1.Dispose(); conv2.Dispose(); bn2.Dispose(); shortcut?.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
