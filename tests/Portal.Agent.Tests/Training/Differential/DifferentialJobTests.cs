using Portal.Training.Differential;
using Portal.Training.Recipes;
using Xunit;

namespace Portal.Agent.Tests.Training.Differential;

public sealed class DifferentialJobTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("portal-diff-job-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public void A_differential_job_writes_the_reference_itself_and_reports_a_planted_fault_as_not_passed()
    {
        var config = DifferentialJob.ParseConfig("""{"inputSize": 64, "plant": "bn-eps"}""");

        var report = DifferentialJob.Run(PyTorchReference.Python, config, _work, CancellationToken.None);

        Assert.False(report.Passed);
        Assert.Equal("backbone.stem0.bn", report.FirstDivergingLayer);
        Assert.Equal(0, DifferentialJob.Metrics(report)["passed"]);
        Assert.True(File.Exists(Path.Combine(_work, "reference", "manifest.json")));
    }

    [Fact]
    public void A_differential_job_without_python_fails_with_a_clear_error()
    {
        var config = DifferentialJob.ParseConfig("{}");

        var e = Assert.Throws<ReferenceException>(() => DifferentialJob.Run("/nonexistent/python3", config, _work, CancellationToken.None));

        Assert.Contains("a differential run needs Python with PyTorch", e.Message);
    }

    [Fact]
    public void The_differential_job_config_refuses_an_unknown_recipe_and_fault()
    {
        var errors = RecipeCatalog.Validate(DifferentialJob.JobType, """{"recipe": "yolov9", "plant": "cosmic-rays"}""");

        Assert.Contains(errors, e => e.Contains("recipe 'yolov9' has no differential comparison"));
        Assert.Contains(errors, e => e.Contains("plant must be one of"));
        Assert.Empty(RecipeCatalog.Validate(DifferentialJob.JobType, RecipeCatalog.Find(DifferentialJob.JobType)!.DefaultConfigJson));
    }
}
