using Portal.Training.Numerics;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Portal.Agent.Tests.Numerics;

public sealed class NumericSelfCheckTests(ITestOutputHelper output)
{
    [Fact]
    public void The_check_passes_on_this_machine_and_covers_every_layer_kind_the_recipes_use_forward_and_backward()
    {
        var result = NumericSelfCheck.Run(CPU);

        foreach (var item in result.Items) output.WriteLine((item.Passed ? "ok   " : "FAIL ") + item.Describe());
        output.WriteLine($"{result.Threads} threads, {result.Elapsed.TotalSeconds:F2} s");
        Assert.True(result.Passed, result.FirstFailure?.Describe());
        Assert.Equal(get_num_threads(), result.Threads);
        string[] kinds = ["conv2d 3x3 stem", "conv2d 3x3 stride 2", "conv2d 1x1 stride 2", "conv2d 1x1 head", "batch_norm train", "relu", "leaky_relu 0.1",
            "max_pool2d 2", "adaptive_avg_pool2d 1", "linear", "cross_entropy", "binary_cross_entropy_with_logits sum", "mse_loss sum"];
        foreach (var kind in kinds)
        {
            Assert.Contains(result.Items, i => i.Operation == $"{kind}: output");
            Assert.Contains(result.Items, i => i.Operation == $"{kind}: input grad");
        }
        Assert.Contains(result.Items, i => i.Operation == "conv2d 3x3 stride 2: weight grad" && i.Shape == "64x16x32x32 -> 64x32x16x16");
        Assert.Contains(result.Items, i => i.Operation == "batch_norm train: weight grad");
        Assert.Contains(result.Items, i => i.Operation == "linear: bias grad");
        Assert.All(result.Items, i => Assert.True(double.IsFinite(i.MaxAbsError) && i.WorstRatio <= 1, i.Describe()));
    }

    [Fact]
    public void A_forward_result_off_by_a_thousandth_fails_the_check_naming_the_operation_and_its_error()
    {
        var result = NumericSelfCheck.Run(CPU, (name, t) => name == "conv2d 3x3 stride 2: output" ? t + 1e-3f : t);

        Assert.False(result.Passed);
        var failure = result.FirstFailure!;
        Assert.Equal("conv2d 3x3 stride 2: output", failure.Operation);
        Assert.InRange(failure.MaxAbsError, 0.9e-3, 1.1e-3);
        Assert.True(failure.WorstRatio > 1);
        Assert.Single(result.Items, i => !i.Passed);
        Assert.Contains("conv2d 3x3 stride 2: output (64x16x32x32 -> 64x32x16x16): max abs error", failure.Describe());
    }

    [Fact]
    public void A_weight_gradient_that_lost_half_its_sum_fails_although_a_sum_of_65536_terms_gets_a_wider_tolerance()
    {
        // What a thread's lost partial sum looks like: about half of the batch missing from the gradient.
        var result = NumericSelfCheck.Run(CPU, (name, t) => name == "conv2d 3x3: weight grad" ? t * 0.5f : t);

        Assert.Equal("conv2d 3x3: weight grad", result.FirstFailure?.Operation);
        Assert.InRange(result.FirstFailure!.MaxRelError, 0.45, 0.55);
        Assert.Single(result.Items, i => !i.Passed);
    }

    [Fact]
    public void A_NaN_in_a_batch_norm_gradient_fails_the_check()
    {
        var result = NumericSelfCheck.Run(CPU, (name, t) =>
        {
            if (name != "batch_norm train: input grad") return t;
            var copy = t.clone();
            copy.view(-1)[5] = float.NaN;
            return copy;
        });

        Assert.Equal("batch_norm train: input grad", result.FirstFailure?.Operation);
        Assert.Equal(double.PositiveInfinity, result.FirstFailure!.MaxAbsError);
    }
}
