using Portal.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Portal.Agent.Tests.Training;

/// <summary>
/// CPU convolution gradients against a float64 computation on the same machine (docs/decisions/0007). The channel
/// counts that are not a multiple of 16 are the ones oneDNN's AVX-512 backward-data kernel got wrong.
/// </summary>
public sealed class CpuConvolutionTests
{
    [Theory]
    [InlineData(3, 8, 1)]
    [InlineData(4, 4, 1)]
    [InlineData(8, 8, 1)]
    [InlineData(12, 12, 1)]
    [InlineData(8, 16, 2)]
    [InlineData(16, 16, 1)]
    [InlineData(16, 32, 2)]
    [InlineData(16, 8, 1)]
    [InlineData(24, 24, 1)]
    public void Convolution_gradients_stay_within_float32_rounding_of_float64_for_any_channel_count(int input, int output, int stride)
    {
        CpuKernels.UseAtenConvolutions();
        for (var repeat = 0; repeat < 5; repeat++)
        {
            using var scope = NewDisposeScope();
            var generator = new Generator((ulong)(1000 + repeat));
            var x = randn([32, input, 32, 32], generator: generator);
            var w = randn([output, input, 3, 3], generator: generator) * 0.1;
            var x32 = x.clone().requires_grad_(true);
            var w32 = w.clone().requires_grad_(true);
            var x64 = x.to(float64).requires_grad_(true);
            var w64 = w.to(float64).requires_grad_(true);
            var y32 = functional.conv2d(x32, w32, strides: [stride, stride], padding: [1, 1]);
            var y64 = functional.conv2d(x64, w64, strides: [stride, stride], padding: [1, 1]);
            var upstream = randn(y32.shape, generator: generator);
            (y32 * upstream).sum().backward();
            (y64 * upstream.to(float64)).sum().backward();

            // Float32 summation of n terms, in any order, is within n*u*sum|terms| of the exact sum (u = 2^-24); the
            // float64 result is exact to far below that. sum|terms| is the same convolution over absolute values.
            var unit = Math.Pow(2, -24);
            var (forwardSize, inputGradSize, weightGradSize) = AbsoluteSums(x, w, upstream, stride);
            AssertWithin("forward output", y32.detach(), y64.detach(), forwardSize * (input * 9 * unit));
            AssertWithin("input gradient", x32.grad!, x64.grad!, inputGradSize * (output * 9 * unit));
            AssertWithin("weight gradient", w32.grad!, w64.grad!, weightGradSize * (y32.shape[0] * y32.shape[2] * y32.shape[3] * unit));
        }
    }

    [Fact]
    public void The_configuration_turns_onednn_off_for_cpu_convolutions_and_says_so()
    {
        var said = CpuKernels.UseAtenConvolutions();

        Assert.False(CpuKernels.OneDnnEnabled);
        Assert.Contains("oneDNN off", said);
        Assert.Equal(said, CpuKernels.Configuration);
    }

    /// <summary>For each output and gradient element, the sum of the absolute values of the products it adds up (float64).</summary>
    private static (Tensor Forward, Tensor InputGrad, Tensor WeightGrad) AbsoluteSums(Tensor x, Tensor w, Tensor upstream, int stride)
    {
        var absX = x.to(float64).abs().requires_grad_(true);
        var absW = w.to(float64).abs().requires_grad_(true);
        var forward = functional.conv2d(absX, absW, strides: [stride, stride], padding: [1, 1]);
        (forward * upstream.to(float64).abs()).sum().backward();
        return (forward.detach(), absX.grad!, absW.grad!);
    }

    private static void AssertWithin(string what, Tensor actual, Tensor expected, Tensor bound)
    {
        Assert.True(actual.isfinite().all().item<bool>(), $"{what} is not finite");
        var excess = (actual.to(float64) - expected).abs() - bound - 1e-6;
        var worst = excess.max().item<double>();
        Assert.True(worst <= 0, $"{what} is off float64 by {worst:E3} beyond float32 rounding");
    }
}
