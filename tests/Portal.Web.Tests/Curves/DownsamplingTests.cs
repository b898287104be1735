using Portal.Web.Features.Curves;

namespace Portal.Web.Tests.Curves;

public sealed class DownsamplingTests
{
    private static List<SeriesPoint> Noise(int count, int seed = 1)
    {
        var random = new Random(seed);
        var points = new List<SeriesPoint>(count);
        for (var i = 0; i < count; i++) points.Add(new SeriesPoint(i, 1.0 + random.NextDouble() * 0.1, 1_700_000_000_000 + i));
        return points;
    }

    [Fact]
    public void A_single_spike_and_a_single_dip_in_a_million_points_both_survive()
    {
        var points = Noise(1_000_000);
        points[654_321] = points[654_321] with { Value = 1000.0 };
        points[123_457] = points[123_457] with { Value = -50.0 };

        var (level, output) = Downsampler.Downsample(points, 0, 999_999);

        Assert.True(level > 0);
        Assert.Contains(output, p => p.Step == 654_321 && p.Value == 1000.0);
        Assert.Contains(output, p => p.Step == 123_457 && p.Value == -50.0);
        Assert.InRange(output.Count, CurveLevels.DefaultMaxPoints / 4, CurveLevels.DefaultMaxPoints);
    }

    [Fact]
    public void The_same_input_gives_exactly_the_same_output()
    {
        var first = Downsampler.Downsample(Noise(300_000, seed: 5), 0, 299_999).Points;
        var second = Downsampler.Downsample(Noise(300_000, seed: 5), 0, 299_999).Points;
        Assert.Equal(first, second);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(2_000)]
    [InlineData(2_001)]
    [InlineData(77_777)]
    [InlineData(1_000_000)]
    public void The_output_never_exceeds_the_point_budget_and_keeps_step_order(int count)
    {
        var points = Noise(count);
        // NaN in every hundredth point adds gap markers, which must fit in the budget too.
        for (var i = 50; i < count; i += 100) points[i] = points[i] with { Value = double.NaN };

        var output = Downsampler.Downsample(points, 0, count - 1).Points;

        Assert.True(output.Count <= CurveLevels.DefaultMaxPoints, $"{output.Count} points");
        Assert.True(output.Zip(output.Skip(1)).All(pair => pair.First.Step < pair.Second.Step));
        if (count <= CurveLevels.DefaultMaxPoints) Assert.Equal(count, output.Count);
    }

    [Fact]
    public void A_NaN_value_stays_in_the_output_as_a_gap_marker()
    {
        var points = Noise(100_000);
        points[40_000] = points[40_000] with { Value = double.NaN };

        var output = Downsampler.Downsample(points, 0, 99_999).Points;

        Assert.Contains(output, p => p.Step == 40_000 && double.IsNaN(p.Value));
    }

    [Fact]
    public void Merging_bucket_summaries_gives_the_summary_of_all_their_points()
    {
        var points = Noise(4096, seed: 9);
        var whole = new M4Bucket();
        foreach (var p in points) whole.Add(p);
        var merged = new M4Bucket();
        foreach (var chunk in points.Chunk(100))
        {
            var part = new M4Bucket();
            foreach (var p in chunk) part.Add(p);
            merged.Merge(part);
        }
        Assert.Equal(whole, merged);
    }

    [Fact]
    public void The_level_is_raw_while_points_fit_and_a_tier_whose_buckets_fit_beyond()
    {
        Assert.Equal(0, CurveLevels.Choose(2000, 0, 1_000_000));
        var k = CurveLevels.Choose(1_000_000, 0, 999_999);
        Assert.True(((999_999L >> k) + 1) * 5 <= 2000);
        Assert.True(((999_999L >> (k - 2)) + 1) * 5 > 2000);
    }

    [Theory]
    [InlineData(5)]
    [InlineData(200)]
    [InlineData(2000)]
    [InlineData(20_000)]
    public void Without_the_four_step_tier_every_range_gets_the_level_it_got_with_it(int maxPoints)
    {
        // A series holds at most one point per step, so a range that 4-step buckets could fit in the budget never
        // holds more points than the budget: the tier was never drawn, and leaving it out changes no chart.
        int[] withFourSteps = [2, .. CurveLevels.Tiers];
        int Old(long count, long from, long to)
        {
            if (count <= maxPoints) return 0;
            foreach (var k in withFourSteps) if (((to >> k) - (from >> k) + 1) * 5 <= maxPoints) return k;
            return withFourSteps[^1];
        }
        var random = new Random(11);
        for (var i = 0; i < 20_000; i++)
        {
            var from = (long)random.Next(0, 1 << 20);
            var to = from + random.Next(0, 1 << (i % 24));
            var width = to - from + 1;
            foreach (var count in new[] { width, Math.Min(width, maxPoints + 1), random.NextInt64(1, width + 1) })
                Assert.Equal(Old(count, from, to), CurveLevels.Choose(count, from, to, maxPoints));
        }
    }
}
