using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Testing;
using Portal.Web.Infrastructure;

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

        // The clock starts when the server has saved the change and announced it, which is what "within a second" is about.
        var saved = new TaskCompletionSource<long>();
        using var announced = _app.Services.GetRequiredService<LiveUpdates>().Subscribe(Topics.Project(projectId), () =>
        {
            saved.TrySetResult(Stopwatch.GetTimestamp());
            return Task.CompletedTask;
        });
        await lead.ClickAsync("[data-testid=stage-advance]");
        await member.WaitForSelectorAsync("[data-testid=project-stage] >> text=Portability", new() { Timeout = 5_000 });
        var elapsed = Stopwatch.GetElapsedTime(await saved.Task);

        Assert.True(elapsed < TimeSpan.FromSeconds(1), $"the member saw the new stage {elapsed.TotalMilliseconds:0} ms after it was saved");
        await member.WaitForSelectorAsync("[data-testid=stage-history] >> text=Maya Ortiz (Modeling lead)");
    }
}
