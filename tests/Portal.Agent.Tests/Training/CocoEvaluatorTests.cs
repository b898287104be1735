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

    [Fact]
    public void A_crowded_image_keeps_the_best_hundred_detections_of_each_class_not_of_the_image()
    {
        // 150 confident misses of class 1 do not push class 0's one, less confident, hit out of the image's 100.
        GroundTruth[] truths = [new(0, 0, Unit), new(0, 1, new Box(50, 50, 60, 60))];
        var detections = Enumerable.Range(0, 150).Select(i => new Detection(0, 1, 0.9f, new Box(100 + i, 100, 110 + i, 110)))
            .Append(new Detection(0, 0, 0.1f, Unit)).ToArray();

        Assert.Equal(1.0, CocoEvaluator.AveragePrecision(truths, detections, 0, 0.5), 9);
        Assert.Equal(0.5, CocoEvaluator.Evaluate(truths, detections).AP50, 9);
    }

    [Fact]
    public void A_detection_on_a_crowd_region_is_neither_a_hit_nor_a_false_positive()
    {
        // The first detection lies inside the crowd region (IoU over its own area: 1) and is ignored; the second hits.
        GroundTruth[] truths = [new(0, 0, Unit), new(0, 0, new Box(100, 100, 200, 200), IsCrowd: true)];
        Detection[] detections = [new(0, 0, 0.9f, new Box(120, 120, 140, 140)), new(0, 0, 0.8f, Unit)];

        var metrics = CocoEvaluator.Evaluate(truths, detections);

        Assert.Equal(1.0, metrics.AP, 9);
        Assert.Equal(1.0, metrics.AR100, 9);
    }

    [Fact]
    public void Objects_are_split_by_area_at_32_and_96_pixels_squared_and_an_empty_range_is_minus_one()
    {
        // A small object found, a large one missed, nothing medium.
        GroundTruth[] truths = [new(0, 0, Unit), new(0, 0, new Box(100, 100, 200, 200))];
        Detection[] detections = [new(0, 0, 0.9f, Unit)];

        var m = CocoEvaluator.Evaluate(truths, detections);

        Assert.Equal((1.0, -1.0, 0.0), (Math.Round(m.APs, 9), m.APm, m.APl));
        Assert.Equal((1.0, -1.0, 0.0), (Math.Round(m.ARs, 9), m.ARm, m.ARl));
        Assert.Equal(51 / 101.0, m.AP, 9);
        Assert.Equal(0.5, m.AR100, 9);
    }

    [Fact]
    public void AR1_counts_only_the_best_detection_of_each_image_and_class()
    {
        GroundTruth[] truths = [new(0, 0, Unit), new(0, 0, new Box(20, 20, 30, 30))];
        Detection[] detections = [new(0, 0, 0.9f, Unit), new(0, 0, 0.8f, new Box(20, 20, 30, 30))];

        var metrics = CocoEvaluator.Evaluate(truths, detections);

        Assert.Equal((0.5, 1.0, 1.0), (Math.Round(metrics.AR1, 9), Math.Round(metrics.AR10, 9), Math.Round(metrics.AR100, 9)));
    }

    [Fact]
    public void A_score_that_is_not_a_number_is_refused_with_the_image_it_came_from()
    {
        var error = Assert.Throws<ArgumentException>(() => CocoEvaluator.Evaluate([new GroundTruth(3, 0, Unit)], [new Detection(3, 0, float.NaN, Unit)]));

        Assert.Contains("image 3", error.Message);
    }
}
