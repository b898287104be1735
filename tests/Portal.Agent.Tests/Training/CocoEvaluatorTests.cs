using Portal.Training.Data;
using Portal.Training.Evaluation;
using Xunit;

namespace Portal.Agent.Tests.Training;

public sealed class CocoEvaluatorTests
{
    private static readonly Box Unit = new(0, 0, 10, 10);

    [Fact]
    public void A_perfect_detection_scores_one_at_every_threshold()
    {
        var metrics = CocoEvaluator.Evaluate([new GroundTruth(0, 0, Unit)], [new Detection(0, 0, 0.9f, Unit)]);

        Assert.Equal(1.0, metrics.AP, 9);
        Assert.Equal(1.0, metrics.AP50, 9);
    }

    [Fact]
    public void No_detection_scores_zero()
    {
        var metrics = CocoEvaluator.Evaluate([new GroundTruth(0, 0, Unit)], []);

        Assert.Equal(0.0, metrics.AP);
    }

    [Fact]
    public void A_false_positive_between_two_hits_gives_the_hand_computed_interpolated_AP()
    {
        // Scores .9 hit, .8 miss, .7 hit: recall .5, .5, 1 and precision 1, .5, 2/3; the envelope is 1, 2/3, 2/3.
        // Recall levels 0..0.50 (51 of them) read precision 1, levels 0.51..1 (50) read 2/3: (51 + 50 * 2/3) / 101.
        GroundTruth[] truths = [new(0, 0, Unit), new(1, 0, Unit)];
        Detection[] detections = [new(0, 0, 0.9f, Unit), new(0, 0, 0.8f, new Box(50, 50, 60, 60)), new(1, 0, 0.7f, Unit)];

        var ap = CocoEvaluator.AveragePrecision(truths, detections, 0, 0.5);

        Assert.Equal((51 + 50 * 2.0 / 3) / 101, ap, 9);
    }

    [Fact]
    public void A_box_with_IoU_077_counts_at_six_of_the_ten_thresholds()
    {
        // IoU of (0,0,10,7.7) with (0,0,10,10) is 0.77: a hit at 0.50 ... 0.75 and a miss at 0.80 ... 0.95.
        var metrics = CocoEvaluator.Evaluate([new GroundTruth(0, 0, Unit)], [new Detection(0, 0, 0.9f, new Box(0, 0, 10, 7.7f))]);

        Assert.Equal(1.0, metrics.AP50, 9);
        Assert.Equal(0.6, metrics.AP, 9);
        Assert.Equal(1.0, metrics.AP75, 9);
    }

    [Fact]
    public void A_detection_of_the_wrong_class_does_not_count_and_classes_without_truth_are_left_out()
    {
        GroundTruth[] truths = [new(0, 0, Unit), new(0, 1, new Box(20, 20, 30, 30))];
        Detection[] detections = [new(0, 0, 0.9f, Unit), new(0, 0, 0.8f, new Box(20, 20, 30, 30)), new(0, 2, 0.9f, Unit)];

        var metrics = CocoEvaluator.Evaluate(truths, detections);

        // Class 0: one hit first, then a miss: AP 1. Class 1: nothing found: AP 0. Class 2 has no truth: not averaged.
        Assert.Equal(0.5, metrics.AP50, 9);
    }

    [Fact]
    public void Two_detections_of_one_object_count_one_hit_and_one_false_positive()
    {
        GroundTruth[] truths = [new(0, 0, Unit), new(1, 0, Unit)];
        Detection[] detections = [new(0, 0, 0.9f, Unit), new(0, 0, 0.8f, Unit)];

        var ap = CocoEvaluator.AveragePrecision(truths, detections, 0, 0.5);

        // Recall .5 then .5 (the duplicate is a miss), the second object never found: levels 0..0.5 read 1.
        Assert.Equal(51 / 101.0, ap, 9);
    }
}
