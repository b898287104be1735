using Portal.Training.Recipes;
using Xunit;

namespace Portal.Agent.Tests.Training;

public sealed class ConfigValidationTests
{
    [Theory]
    [InlineData("detector")]
    [InlineData("classifier")]
    public void Every_recipe_accepts_its_default_config_and_an_empty_one(string recipe)
    {
        var info = RecipeCatalog.Find(recipe)!;

        Assert.Empty(RecipeCatalog.Validate(recipe, info.DefaultConfigJson));
        Assert.Empty(RecipeCatalog.Validate(recipe, ""));
        Assert.Equal("val", info.Split);
    }

    [Fact]
    public void An_unknown_recipe_is_refused_with_the_known_names()
    {
        var error = Assert.Single(RecipeCatalog.Validate("yolov9", "{}"));

        Assert.Contains("detector", error);
        Assert.Contains("classifier", error);
    }

    [Fact]
    public void Out_of_range_values_are_each_named()
    {
        var errors = RecipeCatalog.Validate("detector", """{"steps": 0, "learningRate": -1, "imageSize": 60}""");

        Assert.Equal(3, errors.Count);
        Assert.Contains(errors, e => e.Contains("steps") && e.Contains("got 0"));
        Assert.Contains(errors, e => e.Contains("learningRate"));
        Assert.Contains(errors, e => e.Contains("imageSize") && e.Contains("multiple of 8"));
    }

    [Theory]
    [InlineData("""{"stepz": 10}""", "'stepz' is not a setting")]
    [InlineData("""{"steps": "ten"}""", "'steps' has a value of the wrong type")]
    [InlineData("""{"steps": 10""", "config is not valid JSON: line 1, the config ends before its closing brace")]
    [InlineData("{\n  \"steps\": 10\n  \"batchSize\": 4\n}", "config is not valid JSON: line 2, a comma is missing at the end of the line.")]
    [InlineData("""{"steps": 10 "batchSize": 4}""", "config is not valid JSON: line 1, a comma is missing before column 14.")]
    [InlineData("{\n  steps: 10\n}", "config is not valid JSON: line 2, a setting's name is not in double quotes")]
    [InlineData("{\n  \"steps\" 10\n}", "config is not valid JSON: line 2, a colon is missing")]
    [InlineData("""{"steps": ten}""", "config is not valid JSON: line 1, a value is not valid JSON")]
    [InlineData("""[1, 2]""", "must be a JSON object")]
    public void Malformed_configs_are_refused_with_a_clear_reason(string json, string expected)
    {
        var error = Assert.Single(RecipeCatalog.Validate("classifier", json));

        Assert.Contains(expected, error);
        // The parser's own vocabulary stays out of what a user reads.
        Assert.DoesNotContain("BytePositionInLine", error);
        Assert.DoesNotContain("Path: $", error);
    }

    [Fact]
    public void Creating_a_run_with_an_invalid_config_throws_the_same_reasons()
    {
        var e = Assert.Throws<ArgumentException>(() => RecipeCatalog.CreateRun("classifier", """{"batchSize": 0}""", 1, TorchSharp.torch.CPU));

        Assert.Contains("batchSize", e.Message);
    }
}
