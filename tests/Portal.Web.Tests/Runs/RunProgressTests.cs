using Portal.Web.Features.Runs;

namespace Portal.Web.Tests.Runs;

public sealed class RunProgressTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 2, 10, 0, 0, TimeSpan.Zero);

    private static StepSample At(long step, double seconds) => new(step, T0.AddSeconds(seconds));

    [Fact]
    public void A_running_run_gets_the_time_left_at_its_recent_step_rate()
    {
        // 100 steps in 50 s: 2 steps/s; 1,000 steps left after step 500: 500 s.
        var progress = RunProgress.Of(RunStatus.Running, 500, 1_500, [At(400, 0), At(450, 25), At(500, 50)]);

        Assert.Equal(TimeSpan.FromSeconds(500), progress.Eta);
        Assert.Equal("step 500 of 1,500", progress.StepText);
        Assert.Equal(500.0 / 1_500, progress.Fraction!.Value, 9);
        Assert.Equal("about 9 min left", progress.EtaText);
    }

    [Fact]
    public void The_rate_is_measured_over_the_samples_given_whatever_their_order()
    {
        var progress = RunProgress.Of(RunStatus.Running, 30, 130, [At(30, 20), At(10, 0), At(20, 10)]);

        // 20 steps in 20 s: 1 step/s; 100 steps left.
        Assert.Equal(TimeSpan.FromSeconds(100), progress.Eta);
    }

    [Theory]
    [InlineData(RunStatus.Succeeded)]
    [InlineData(RunStatus.Queued)]
    [InlineData(RunStatus.Lost)]
    public void A_run_that_is_not_running_has_no_time_left(RunStatus status)
    {
        Assert.Null(RunProgress.Of(status, 500, 1_500, [At(400, 0), At(500, 50)]).Eta);
    }

    [Fact]
    public void No_time_left_is_given_without_a_step_count_or_a_rate()
    {
        Assert.Null(RunProgress.Of(RunStatus.Running, 500, null, [At(400, 0), At(500, 50)]).Eta);
        Assert.Null(RunProgress.Of(RunStatus.Running, 500, 1_500, [At(500, 50)]).Eta);
        Assert.Null(RunProgress.Of(RunStatus.Running, 500, 1_500, []).Eta);
        // Points written in one batch share a wall time: no rate to measure.
        Assert.Null(RunProgress.Of(RunStatus.Running, 500, 1_500, [At(400, 50), At(500, 50)]).Eta);
        Assert.Null(RunProgress.Of(RunStatus.Running, 1_500, 1_500, [At(1_400, 0), At(1_500, 50)]).Eta);
    }

    [Fact]
    public void Without_a_step_count_the_text_says_only_the_step_and_there_is_no_bar()
    {
        var progress = RunProgress.Of(RunStatus.Running, 42, null, []);

        Assert.Equal("step 42", progress.StepText);
        Assert.Null(progress.Fraction);
        Assert.Null(progress.EtaText);
    }

    [Fact]
    public void The_step_count_comes_from_the_config_or_else_from_the_recipe_default()
    {
        Assert.Equal(40, RunProgress.TotalStepsOf("detector", """{ "steps": 40 }"""));
        Assert.Equal(1_500, RunProgress.TotalStepsOf("detector", """{ "batchSize": 8 }"""));
        Assert.Equal(600, RunProgress.TotalStepsOf("classifier", ""));
        Assert.Equal(1_500, RunProgress.TotalStepsOf("detector", "not json"));
        Assert.Null(RunProgress.TotalStepsOf("unknown-recipe", """{ "lr": 0.1 }"""));
    }

    [Theory]
    [InlineData(30, "less than a minute left")]
    [InlineData(61, "about 2 min left")]
    [InlineData(3 * 3600 + 25 * 60, "about 3 h 25 min left")]
    [InlineData(2 * 86400 + 5 * 3600, "about 2 d 5 h left")]
    public void The_time_left_reads_in_words(int seconds, string text)
    {
        Assert.Equal(text, new RunProgress(1, 10, TimeSpan.FromSeconds(seconds)).EtaText);
    }
}
