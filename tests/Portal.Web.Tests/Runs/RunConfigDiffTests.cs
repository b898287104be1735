using Portal.Web.Features.Runs;

namespace Portal.Web.Tests.Runs;

public sealed class RunConfigDiffTests
{
    private static Run Detector(long id, string config, int seed = 1, string? commit = null) =>
        new() { Id = id, Recipe = "detector", ConfigJson = config, Seed = seed, Dataset = "synthetic-shapes", Split = "val", Commit = commit };

    [Fact]
    public void Settings_that_differ_are_marked_and_equal_ones_are_not()
    {
        var rows = RunConfigDiff.Compare([
            Detector(1, """{ "steps": 40, "optimizer": { "lr": 0.01, "momentum": 0.9 } }"""),
            Detector(2, """{ "steps": 40, "optimizer": { "lr": 0.02, "momentum": 0.9 } }""", seed: 2)]);

        var byKey = rows.ToDictionary(r => r.Key);
        Assert.True(byKey["optimizer.lr"].Differs);
        Assert.Equal(["0.01", "0.02"], byKey["optimizer.lr"].Values);
        Assert.False(byKey["optimizer.momentum"].Differs);
        Assert.False(byKey["steps"].Differs);
        Assert.True(byKey["seed"].Differs);
        Assert.False(byKey["recipe"].Differs);
    }

    [Fact]
    public void A_key_a_config_leaves_out_takes_the_recipe_default_and_so_is_not_a_difference()
    {
        var explicitDefault = RunProgress.TotalStepsOf("detector", "{}")!.Value;

        var rows = RunConfigDiff.Compare([Detector(1, "{}"), Detector(2, $$"""{ "steps": {{explicitDefault}} }""")]);

        var steps = Assert.Single(rows, r => r.Key == "steps");
        Assert.False(steps.Differs);
    }

    [Fact]
    public void A_key_only_one_run_has_is_a_difference()
    {
        var rows = RunConfigDiff.Compare([Detector(1, """{ "extra": { "note": "a" } }"""), Detector(2, "{}")]);

        var note = Assert.Single(rows, r => r.Key == "extra.note");
        Assert.Equal(["a", null], note.Values);
        Assert.True(note.Differs);
    }

    [Fact]
    public void A_config_that_is_not_an_object_shows_as_one_row()
    {
        var rows = RunConfigDiff.Compare([Detector(1, "[1, 2]"), Detector(2, "{}")]);

        Assert.Equal("[1, 2]", Assert.Single(rows, r => r.Key == "config").Values[0]);
    }
}
