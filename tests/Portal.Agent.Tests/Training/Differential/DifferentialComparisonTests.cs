using Portal.Training.Differential;
using Portal.Training.Models;
using Xunit;
using static TorchSharp.torch;

namespace Portal.Agent.Tests.Training.Differential;

[Collection(nameof(ReferenceCollection))]
public sealed class DifferentialComparisonTests(ReferenceFixture reference)
{
    private static readonly string[] Recipes = [DifferentialComparison.Recipe];

    private DifferentialReport Compare(Yolov4TinyOptions? variant = null, Action<Yolov4Tiny>? afterLoad = null)
    {
        using var folder = ReferenceFolder.Load(reference.Directory, Recipes);
        return DifferentialComparison.Run(folder, variant, afterLoad);
    }

    [Fact]
    public void The_TorchSharp_model_matches_the_PyTorch_reference_on_every_layer_the_loss_and_every_gradient()
    {
        var report = Compare();

        Assert.True(report.Passed, ReportFormat.ToTable(report));
        Assert.Null(report.FirstDivergingLayer);
        Assert.Equal(79, report.Layers.Count(l => l.Kind is ComparedKind.Forward or ComparedKind.Loss));
        Assert.Equal(61, report.Layers.Count(l => l.Kind == ComparedKind.Gradient));
        Assert.Equal(38, report.Layers.Count(l => l.Kind == ComparedKind.Buffer));
        // The first half of the net holds the strict float32 tolerance of assert_close.
        Assert.All(report.Layers.Where(l => l.Kind == ComparedKind.Forward).Take(30), l => Assert.Null(l.ToleranceReason));
        Assert.InRange(Math.Abs(report.Loss - report.ReferenceLoss), 0, 1e-4 * Math.Abs(report.ReferenceLoss));
    }

    [Theory]
    [InlineData("backbone.stem0.conv.weight", "backbone.stem0.conv")]
    [InlineData("backbone.block2.conv3.conv.weight", "backbone.block2.conv3.conv")]
    [InlineData("backbone.final.bn.weight", "backbone.final.bn")]
    [InlineData("conv16.conv.weight", "conv16.conv")]
    [InlineData("out32.weight", "out32")]
    public void A_single_perturbed_weight_is_localized_to_its_layer(string parameter, string layer)
    {
        var report = Compare(afterLoad: model =>
        {
            using var noGrad = no_grad();
            var p = model.state_dict()[parameter];
            p.view(-1)[3] += 0.05f;
        });

        Assert.False(report.Passed);
        Assert.Equal(layer, report.FirstDivergingLayer);
        var first = report.Layers.Single(l => l.Name == layer);
        Assert.All(report.Layers.Where(l => l.Index < first.Index), l => Assert.True(l.Passed, l.Name));
        Assert.StartsWith("Weights:", report.LikelyCause);
        Assert.Contains(parameter, report.LikelyCause);
    }

    [Theory]
    [InlineData("bn-eps", "backbone.stem0.bn", "epsilon", "0.001")]
    [InlineData("leaky-slope", "backbone.stem0.act", "slope", "0.01")]
    [InlineData("tf-padding", "backbone.stem0.conv", "Padding", "\"same\"")]
    [InlineData("bilinear-upsample", "upsample", "Upsampling mode", "bilinear")]
    [InlineData("bn-momentum", "backbone.stem0.bn.running_mean", "momentum", "0.1")]
    public void A_planted_cross_framework_fault_is_caught_at_its_layer_and_its_cause_named(string fault, string layer, string cause, string fitted)
    {
        var report = Compare(DifferentialJob.Faults[fault]);

        Assert.False(report.Passed);
        Assert.Equal(layer, report.FirstDivergingLayer);
        Assert.Contains(cause, report.LikelyCause);
        Assert.Contains(fitted, report.LikelyCause);
        var first = report.Layers.Single(l => l.Name == layer);
        Assert.True(first.MaxAbsError > 100 * first.Atol, $"{first.MaxAbsError} against a tolerance of {first.Atol}");
        Assert.Equal(report.LikelyCause, first.Note);
    }

    [Fact]
    public void The_report_survives_a_round_trip_through_its_json()
    {
        var report = Compare(DifferentialJob.Faults["leaky-slope"]);

        var back = ReportFormat.FromJson(ReportFormat.ToJson(report));

        Assert.Equal(report.FirstDivergingLayer, back.FirstDivergingLayer);
        Assert.Equal(report.Layers.Count, back.Layers.Count);
        Assert.Equal(report.Layers[5].MaxAbsError, back.Layers[5].MaxAbsError);
        Assert.False(back.Passed);
    }
}
