using Bunit;
using MudBlazor.Services;
using Portal.Web.Features.Projects;
using Portal.Web.Features.Releases;

namespace Portal.Web.Tests.Releases;

public sealed class GateListTests : BunitContext, IAsyncLifetime
{
    public GateListTests()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
    }

    public Task InitializeAsync() => Task.CompletedTask;
    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();

    [Fact]
    public void Each_gate_shows_its_state_its_reasons_and_a_link_to_its_evidence()
    {
        var release = new Release { Id = 7, ProjectId = 3, Name = "Net", Version = "1.0" };
        var gates = new List<GateResult>
        {
            new(GateKind.Stages, "Stages", GateState.Pass, "All 4 tasks of the stage Implementation are done.", [], "/projects/3/board"),
            new(GateKind.Reproducibility, "Reproducibility", GateState.Fail, "1 of 1 claim not reproduced within ±0.5.",
                ["AP: 3 runs on val (mean 21.21) not counted: the paper's number is on test-dev."], "/reproducibility/3"),
            new(GateKind.ModelCard, "Model card", GateState.Fail, "1 section to fill: Licence.", [], "#model-card"),
        };
        var view = new ReleaseView(release, new Project { Id = 3, Name = "Net" }, 0.5, gates, [], new string('a', 64), [], [], []);

        var cut = Render<GateList>(p => p.Add(x => x.View, view));

        var reproducibility = cut.Find("[data-testid=gate-Reproducibility]");
        Assert.Equal("Fail", reproducibility.GetAttribute("data-state"));
        Assert.Equal("fail", reproducibility.QuerySelector("[data-testid=gate-state]")!.TextContent.Trim());
        Assert.Contains("not counted: the paper's number is on test-dev.", reproducibility.QuerySelector("[data-testid=gate-details]")!.TextContent);
        Assert.Equal("reproducibility/3", reproducibility.QuerySelector("a")!.GetAttribute("href"));
        Assert.Equal("pass", cut.Find("[data-testid=gate-Stages] [data-testid=gate-state]").TextContent.Trim());
        Assert.Equal("releases/7#model-card", cut.Find("[data-testid=gate-ModelCard] a").GetAttribute("href"));
    }
}
