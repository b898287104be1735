using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Portal.Testing;

namespace Portal.Browser.Tests.Tasks;

public sealed class StageLiveJourneyTests : IClassFixture<PortalAppFactory>, IClassFixture<BrowserFixture>
{
    private readonly PortalAppFactory _app;
    private readonly BrowserFixture _browser;

    public StageLiveJourneyTests(PortalAppFactory app, BrowserFixture browser) => (_app, _browser) = (app, browser);

    [Fact]
    public async Task A_leads_stage_change_shows_on_a_members_open_project_page_within_a_second()
    {
        _ = _app.ServerAddress;
        var projectId = await _app.WithDbAsync(db => db.Projects.Where(p => p.Name == "YOLOv4-tiny").Select(p => p.Id).SingleAsync());
        var lead = await _browser.SignInAsync(_app.ServerAddress, "lead.modeling");
        var member = await _browser.SignInAsync(_app.ServerAddress, "member9");
        foreach (var page in new[] { lead, member })
        {
            await page.GotoAsync($"projects/{projectId}");
            await BrowserFixture.WaitForCircuitAsync(page);
        }
        Assert.Contains("Evaluation", await member.InnerTextAsync("[data-testid=project-stage]"));
        Assert.Empty(await member.QuerySelectorAllAsync("[data-testid=stage-advance]"));

        var clock = Stopwatch.StartNew();
        await lead.ClickAsync("[data-testid=stage-advance]");
        await member.WaitForSelectorAsync("[data-testid=project-stage] >> text=Portability", new() { Timeout = 5_000 });
        clock.Stop();

        Assert.True(clock.ElapsedMilliseconds < 1_000, $"the member saw the new stage after {clock.ElapsedMilliseconds} ms");
        await member.WaitForSelectorAsync("[data-testid=stage-history] >> text=Maya Ortiz (Modeling lead)");
    }
}
