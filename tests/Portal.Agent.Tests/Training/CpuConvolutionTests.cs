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
        for (var repeat = 0; repeat < 8; repeat++)
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

            // Each input gradient is a sum of output*3*3 products; float32 summation of n terms in any order is
            // within n*u*sum|terms| of the exact sum (u = 2^-24), and the float64 result is exact to far below that.
            var terms = output * 9;
            var magnitude = functional.conv_transpose2d(upstream.to(float64).abs(), w64.detach().abs(), strides: [stride, stride], padding: [1, 1], output_padding: stride == 2 ? [1, 1] : [0, 0]);
            AssertWithin("input gradient", x32.grad!, x64.grad!, magnitude * (terms * Math.Pow(2, -24)));

            var yForward = y64.detach();
            Assert.True(y32.isfinite().all().item<bool>(), "forward output is not finite");
            Assert.True(((y32.detach().to(float64) - yForward).abs().max().item<double>()) < 1e-4, "forward output differs from float64");
            Assert.True(w32.grad!.isfinite().all().item<bool>(), "weight gradient is not finite");
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

    private static void AssertWithin(string what, Tensor actual, Tensor expected, Tensor bound)
    {
        Assert.True(actual.isfinite().all().item<bool>(), $"{what} is not finite");
        var excess = (actual.to(float64) - expected).abs() - bound - 1e-6;
        var worst = excess.max().item<double>();
        Assert.True(worst <= 0, $"{what} is off float64 by {worst:E3} beyond float32 rounding");
    }
}
