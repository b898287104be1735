using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using MudBlazor.Services;
using Portal.Web.Data;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Portal.Training.Differential;
using Portal.Web.Features.Runs;
using Portal.Web.Tests.Design;

namespace Portal.Web.Tests.Runs;

public sealed class DifferentialRunPageTests : BunitContext, IAsyncLifetime
{
    private readonly string _data = Directory.CreateTempSubdirectory("portal-differential-page-").FullName;
    private FeatureDatabase Db { get; } = new();

    public DifferentialRunPageTests()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddSingleton<IDbContextFactory<PortalDbContext>>(Db);
        Services.AddSingleton(Db.Live);
        Services.AddSingleton(Options.Create(new PortalOptions { DataDirectory = _data }));
        Services.AddSingleton<DifferentialRuns>();
        SetRendererInfo(new RendererInfo("Server", true));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    async Task IAsyncLifetime.DisposeAsync()
    {
        await base.DisposeAsync();
        Db.Dispose();
        Directory.Delete(_data, recursive: true);
    }

    private static LayerComparison Row(int index, ComparedKind kind, string name, double error, bool passed, string? note = null) =>
        new(index, kind, name, name.Replace("backbone.", "", StringComparison.Ordinal), [2, 32, 32, 32], error, error, 1, 1e-5, 1.3e-6, passed, null, note);

    private static DifferentialReport Report(bool passed)
    {
        const string Cause = "Batch-norm epsilon: our output fits eps 0.001 where the reference uses 1E-05.";
        LayerComparison[] rows = passed
            ? [Row(0, ComparedKind.Forward, "backbone.stem0.conv", 0, true), Row(1, ComparedKind.Forward, "backbone.stem0.bn", 2e-7, true),
               Row(2, ComparedKind.Gradient, "backbone.stem0.conv.weight", 3e-6, true)]
            : [Row(0, ComparedKind.Forward, "backbone.stem0.conv", 0, true), Row(1, ComparedKind.Forward, "backbone.stem0.bn", 4e-3, false, Cause),
               Row(2, ComparedKind.Gradient, "backbone.stem0.conv.weight", 0.2, false)];
        return new DifferentialReport("yolov4-tiny", "pytorch 1.13", "TorchSharp", 64, 2, 7, 48.68, 48.7, DifferentialComparison.ToleranceRule,
            rows, passed ? null : "backbone.stem0.bn", passed ? null : Cause);
    }

    private async Task<long> AddRunAsync(DifferentialReport? report)
    {
        var projectId = await Db.AddProjectAsync("YOLOv4-tiny");
        await using var db = Db.CreateDbContext();
        var run = new Run { ProjectId = projectId, Recipe = "differential", Status = RunStatus.Succeeded, StartedById = "u", QueuedAt = DateTimeOffset.UtcNow, Commit = "abc1234" };
        db.Runs.Add(run);
        await db.SaveChangesAsync();
        if (report is not null)
        {
            Directory.CreateDirectory(Path.Combine(_data, "artifacts"));
            await File.WriteAllTextAsync(Path.Combine(_data, "artifacts", $"d{run.Id}.json"), ReportFormat.ToJson(report));
            db.RunArtifacts.Add(new RunArtifact { RunId = run.Id, Kind = ArtifactKinds.Differential, FileName = "differential.json", StoragePath = Path.Combine("artifacts", $"d{run.Id}.json"), CreatedAt = DateTimeOffset.UtcNow });
            await db.SaveChangesAsync();
        }
        return run.Id;
    }

    [Fact]
    public async Task The_page_highlights_the_first_diverging_layer_and_names_its_likely_cause()
    {
        var runId = await AddRunAsync(Report(passed: false));

        var page = Render<DifferentialRunPage>(p => p.Add(x => x.RunId, runId));

        page.WaitForAssertion(() => Assert.Equal("backbone.stem0.bn", page.Find("[data-testid=first-diverging]").TextContent), TimeSpan.FromSeconds(30));
        Assert.Contains("Batch-norm epsilon", page.Find("[data-testid=likely-cause]").TextContent);
        var highlighted = page.Find("[data-testid=first-diverging-row]");
        Assert.Contains("backbone.stem0.bn", highlighted.TextContent);
        Assert.Contains("FAIL", highlighted.TextContent);
        Assert.Equal(2, page.FindAll("[data-testid=layer-row]").Count);
        Assert.NotEmpty(page.FindAll("svg"));
    }

    [Fact]
    public async Task A_passing_run_says_the_implementation_matches_the_reference_and_highlights_nothing()
    {
        var runId = await AddRunAsync(Report(passed: true));

        var page = Render<DifferentialRunPage>(p => p.Add(x => x.RunId, runId));

        page.WaitForAssertion(() => Assert.Contains("All 3 tensors within tolerance", page.Find("[data-testid=differential-verdict]").TextContent));
        Assert.Empty(page.FindAll("[data-testid=first-diverging-row]"));
    }

    [Fact]
    public async Task A_run_without_a_report_says_so_instead_of_showing_a_table()
    {
        var runId = await AddRunAsync(report: null);

        var page = Render<DifferentialRunPage>(p => p.Add(x => x.RunId, runId));

        page.WaitForAssertion(() => Assert.Contains("without a report", page.Find("[data-testid=differential-problem]").TextContent));
        Assert.Empty(page.FindAll("[data-testid=differential-table]"));
    }

    [Fact]
    public async Task The_project_and_design_pages_link_each_differential_run_with_its_outcome()
    {
        var runId = await AddRunAsync(report: null);
        long projectId;
        await using (var db = Db.CreateDbContext())
        {
            var run = await db.Runs.SingleAsync(r => r.Id == runId);
            projectId = run.ProjectId;
            db.RunFinalMetrics.AddRange(
                new RunFinalMetric { RunId = runId, Name = "passed", Value = 0 },
                new RunFinalMetric { RunId = runId, Name = "outOfTolerance", Value = 2 },
                new RunFinalMetric { RunId = runId, Name = "tensors", Value = 178 });
            await db.SaveChangesAsync();
        }

        var links = Render<DifferentialRunLinks>(p => p.Add(x => x.ProjectId, projectId));

        links.WaitForAssertion(() => Assert.Contains("2 of 178 tensors out of tolerance", links.Markup));
        Assert.Equal($"runs/{runId}/differential", links.Find("a").GetAttribute("href"));
        Assert.Contains("abc1234", links.Markup);
    }
}
