using Bunit;
using MudBlazor.Services;
using Portal.Web.Features.Releases;
using Portal.Web.Features.Runs;
using Portal.Web.Tests.Agents;

namespace Portal.Web.Tests.Runs;

public sealed class RunEnvironmentsTests : BunitContext, IAsyncLifetime
{
    public RunEnvironmentsTests()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
    }

    public Task InitializeAsync() => Task.CompletedTask;
    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();

    [Fact]
    public void Only_the_fields_that_differ_between_runs_are_listed_with_each_runs_value_in_run_order()
    {
        var a = NumericCheckAndEnvironmentTests.Environment();
        var b = a with { IntraOpThreads = 1, OneDnnIsa = "AVX2 (ONEDNN_MAX_CPU_ISA)" };
        var c = a with { AgentCommit = "fedcba9876543210fedcba9876543210fedcba98" };

        var comparison = RunEnvironments.Compare([(11, a), (12, b), (13, null), (14, c)]);

        Assert.Equal([11L, 12L, 14L], comparison.RunIds);
        Assert.Equal([13L], comparison.WithoutRecord);
        Assert.Equal(["oneDNN ISA", "Intra-op threads", "Agent commit"], comparison.Differences.Select(d => d.Field));
        Assert.Equal(["2", "1", "2"], comparison.Differences.Single(d => d.Field == "Intra-op threads").Values);
        Assert.Equal(["default (the highest the CPU supports)", "AVX2 (ONEDNN_MAX_CPU_ISA)", "default (the highest the CPU supports)"],
            comparison.Differences.Single(d => d.Field == "oneDNN ISA").Values);
    }

    [Fact]
    public void Runs_in_one_environment_or_a_single_run_show_no_differences()
    {
        var a = NumericCheckAndEnvironmentTests.Environment();

        Assert.True(RunEnvironments.Compare([(1, a), (2, a with { })]).AllSame);
        Assert.True(RunEnvironments.Compare([(1, a)]).AllSame);
        Assert.Empty(RunEnvironments.Compare([(1, null), (2, null)]).RunIds);
    }

    [Fact]
    public void The_release_table_shows_a_column_per_run_and_a_row_per_differing_field()
    {
        var a = NumericCheckAndEnvironmentTests.Environment();
        var comparison = RunEnvironments.Compare([(21, a), (22, a with { Device = "cuda", GpuName = "NVIDIA H200" }), (23, null)]);

        var cut = Render<EnvironmentDifferences>(p => p.Add(x => x.Comparison, comparison));

        Assert.Equal(["Field", "run #21", "run #22"], cut.FindAll("[data-testid=environment-differences] th").Select(th => th.TextContent.Trim()));
        var rows = cut.FindAll("[data-testid=environment-difference]").Select(r => r.QuerySelectorAll("td").Select(td => td.TextContent.Trim()).ToArray()).ToList();
        Assert.Equal([["Device", "cpu", "cuda"], ["GPU", "-", "NVIDIA H200"]], rows);
        Assert.Contains("No environment recorded for run #23.", cut.Markup);
    }

    [Fact]
    public void The_release_table_says_so_when_every_run_trained_in_the_same_environment()
    {
        var a = NumericCheckAndEnvironmentTests.Environment();

        var cut = Render<EnvironmentDifferences>(p => p.Add(x => x.Comparison, RunEnvironments.Compare([(1, a), (2, a)])));

        Assert.Equal("All 2 runs that recorded their environment trained in the same one.", cut.Find("[data-testid=environments-same]").TextContent.Trim());
        Assert.Empty(cut.FindAll("[data-testid=environment-differences]"));
    }

    [Fact]
    public void The_run_page_panel_lists_every_field_of_the_environment()
    {
        var cut = Render<RunEnvironmentPanel>(p => p.Add(x => x.Environment, NumericCheckAndEnvironmentTests.Environment()));

        Assert.StartsWith("AMD EPYC 9654 96-Core Processor · cpu · libtorch 2.10.0 (CPU) · 2 threads · oneDNN ISA default",
            Squeeze(cut.Find("[data-testid=run-environment-summary]").TextContent));
        cut.Find(".mud-expand-panel-header").Click();
        var fields = cut.FindAll("[data-testid=run-environment-fields] tr")
            .Select(r => string.Join(": ", r.QuerySelectorAll("td").Select(td => Squeeze(td.TextContent)))).ToList();
        Assert.Equal(20, fields.Count);
        Assert.Contains("CPU flags: avx avx2 avx512f fma", fields);
        Assert.Contains("Agent commit: 0123456789abcdef0123456789abcdef01234567", fields);
        Assert.Contains("Numeric self-check: Passed (cpu, 2 threads)", fields);
    }

    private static string Squeeze(string text) => System.Text.RegularExpressions.Regex.Replace(text, @"\s+", " ").Trim();

    [Fact]
    public void The_run_page_panel_says_when_no_environment_was_recorded()
    {
        var cut = Render<RunEnvironmentPanel>(p => p.Add(x => x.Environment, null));

        Assert.Contains("Not recorded", cut.Find("[data-testid=run-environment]").TextContent);
    }
}
