using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Portal.Training.Models;

/// <summary>A ResNet-style classifier: a stem, three basic residual blocks (the last two stride 2), pooling, a linear head.</summary>
public sealed class SmallResNet : Module<Tensor, Tensor>
{
    private readonly Sequential _stem;
    private readonly BasicBlock _block1;
    private readonly BasicBlock _block2;
    private readonly BasicBlock _block3;
    private readonly AdaptiveAvgPool2d _pool;
    private readonly Linear _fc;

    public SmallResNet(int classes, int width = 16) : base(nameof(SmallResNet))
    {
        _stem = Sequential(Conv2d(3, width, 3, padding: 1, bias: false), BatchNorm2d(width), ReLU());
        _block1 = new BasicBlock("block1", width, width, 1);
        _block2 = new BasicBlock("block2", width, width * 2, 2);
        _block3 = new BasicBlock("block3", width * 2, width * 4, 2);
        _pool = AdaptiveAvgPool2d(1);
        _fc = Linear(width * 4, classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var x0 = _stem.call(input);
        using var x1 = _block1.call(x0);
        using var x2 = _block2.call(x1);
        using var x3 = _block3.call(x2);
        using var pooled = _pool.call(x3);
        using var flat = pooled.flatten(1);
        return _fc.call(flat);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _stem.Dispose(); _block1.Dispose(); _block2.Dispose(); _block3.Dispose(); _pool.Dispose(); _fc.Dispose();
        }
        base.Dispose(disposing);
    }

    private sealed class BasicBlock : Module<Tensor, Tensor>
    {
        private readonly Conv2d _conv1;
        private readonly BatchNorm2d _bn1;
        private readonly Conv2d _conv2;
        private readonly BatchNorm2d _bn2;
        private readonly Sequential? _shortcut;

        public BasicBlock(string name, int input, int output, int stride) : base(name)
        {
            _conv1 = Conv2d(input, output, 3, stride: stride, padding: 1, bias: false);
            _bn1 = BatchNorm2d(output);
            _conv2 = Conv2d(output, output, 3, padding: 1, bias: false);
            _bn2 = BatchNorm2d(output);
            if (stride != 1 || input != output)
                _shortcut = Sequential(Conv2d(input, output, 1, stride: stride, bias: false), BatchNorm2d(output));
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            using var a = _conv1.call(input);
            using var b = _bn1.call(a);
            using var c = functional.relu(b);
            using var d = _conv2.call(c);
            using var e = _bn2.call(d);
            using var identity = _shortcut is null ? input.alias() : _shortcut.call(input);
            using var sum = e.add(identity);
            return functional.relu(sum);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _conv1.Dispose(); _bn1.Dispose(); _conv2.Dispose(); _bn2.Dispose(); _shortcut?.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
