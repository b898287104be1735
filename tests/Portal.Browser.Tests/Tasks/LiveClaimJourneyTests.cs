using System.Diagnostics;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Portal.Testing;
using Portal.Web.Features.Account;
using Portal.Web.Features.Projects;
using Portal.Web.Features.Tasks;
using Portal.Web.Infrastructure;

namespace Portal.Browser.Tests.Tasks;

public sealed class LiveClaimJourneyTests : IClassFixture<PortalAppFactory>, IClassFixture<BrowserFixture>
{
    private readonly PortalAppFactory _app;
    private readonly BrowserFixture _browser;

    public LiveClaimJourneyTests(PortalAppFactory app, BrowserFixture browser) => (_app, _browser) = (app, browser);

    private async Task<(long ProjectId, long[] OpenAnalysisTasks)> YoloV4Async()
    {
        _ = _app.ServerAddress;
        return await _app.WithDbAsync(async db =>
        {
            var projectId = await db.Projects.Where(p => p.Name == "YOLOv4").Select(p => p.Id).SingleAsync();
            var open = await db.Tasks.Where(t => t.ProjectId == projectId && t.Stage == ReproductionStage.PaperAnalysis && t.Status == ProjectTaskStatus.Open)
                .OrderBy(t => t.Id).Select(t => t.Id).ToArrayAsync();
            return (projectId, open);
        });
    }

    private async Task<IPage> OpenBoardAsync(string user, long projectId)
    {
        var page = await _browser.SignInAsync(_app.ServerAddress, user);
        await page.GotoAsync($"projects/{projectId}/board?view=table");
        await BrowserFixture.WaitForCircuitAsync(page);
        await page.WaitForSelectorAsync("[data-testid=task-row]");
        return page;
    }

    [Fact]
    public async Task A_claim_by_one_member_shows_in_another_members_browser_within_a_second_without_reloading()
    {
        var (projectId, open) = await YoloV4Async();
        var taskId = open[0];
        var claimer = await OpenBoardAsync("member1", projectId);
        var watcher = await OpenBoardAsync("member2", projectId);
        var watcherNavigations = 0;
        watcher.FrameNavigated += (_, _) => watcherNavigations++;
        var row = $"tr[data-task-id='{taskId}']";
        await watcher.WaitForSelectorAsync($"{row}[data-status=Open]");

        // The clock starts when the server has saved the claim and announced it, which is what "within a second" is about.
        var saved = new TaskCompletionSource<long>();
        using var announced = _app.Services.GetRequiredService<LiveUpdates>().Subscribe(Topics.Project(projectId), () =>
        {
            saved.TrySetResult(Stopwatch.GetTimestamp());
            return Task.CompletedTask;
        });
        await claimer.ClickAsync($"{row} [data-testid=task-claim]");
        await watcher.WaitForSelectorAsync($"{row}[data-status=Claimed]", new() { Timeout = 5_000 });
        var elapsed = Stopwatch.GetElapsedTime(await saved.Task);

        Assert.True(elapsed < TimeSpan.FromSeconds(1), $"the second browser saw the claim {elapsed.TotalMilliseconds:0} ms after it was saved");
        Assert.Equal("Amir Haddad", (await watcher.InnerTextAsync($"{row} [data-testid=task-holder]")).Trim());
        Assert.Empty(await watcher.QuerySelectorAllAsync($"{row} [data-testid=task-claim]"));
        Assert.Equal(0, watcherNavigations);
    }

    [Fact]
    public async Task A_member_at_the_limit_cannot_claim_another_task_and_sees_why()
    {
        var (projectId, open) = await YoloV4Async();
        var member = await ActorAsync("member3");
        using (var scope = _app.Services.CreateScope())
        {
            var claims = scope.ServiceProvider.GetRequiredService<TaskClaims>();
            foreach (var id in open[^3..]) await claims.ClaimAsync(member, id);
        }
        var target = open[^4];
        var page = await OpenBoardAsync("member3", projectId);

        Assert.Contains("limit of 3", await page.InnerTextAsync("[data-testid=claim-limit]"));
        // The claim button is there but disabled, with the reason on hover.
        Assert.True(await page.IsDisabledAsync($"tr[data-task-id='{target}'] [data-testid=task-claim]"));
        Assert.Contains("limit of 3", await page.GetAttributeAsync($"tr[data-task-id='{target}'] [data-testid=claim-blocked]", "title"));
        Assert.Equal("Open", await page.GetAttributeAsync($"tr[data-task-id='{target}']", "data-status"));
        Assert.Equal(ProjectTaskStatus.Open, await _app.WithDbAsync(db => db.Tasks.Where(t => t.Id == target).Select(t => t.Status).SingleAsync()));
    }

    private async Task<Actor> ActorAsync(string userName)
    {
        using var scope = _app.Services.CreateScope();
        var signIn = scope.ServiceProvider.GetRequiredService<SignInManager<PortalUser>>();
        var user = await signIn.UserManager.FindByNameAsync(userName) ?? throw new InvalidOperationException(userName);
        return Actor.From(await signIn.CreateUserPrincipalAsync(user));
    }
}
