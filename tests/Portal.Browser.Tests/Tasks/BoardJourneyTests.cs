using Microsoft.EntityFrameworkCore;
using Portal.Testing;
using Portal.Web.Features.Projects;
using Portal.Web.Features.Tasks;

namespace Portal.Browser.Tests.Tasks;

/// <summary>A member on the demo's board in Chromium: drags a card to claim it, then finds it on their own tasks page.</summary>
public sealed class BoardJourneyTests(PortalAppFactory app, BrowserFixture browser) : IClassFixture<PortalAppFactory>, IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task Dragging_an_open_card_to_the_claimed_column_claims_it_and_my_tasks_lists_it()
    {
        var projectId = await app.WithDbAsync(db => db.Projects.Where(p => p.Name == "YOLOv4").Select(p => p.Id).SingleAsync());
        var page = await browser.SignInAsync(app.ServerAddress, "member4");

        // Nothing held yet: the page says so and points to open work.
        await page.GotoAsync("my-tasks");
        await BrowserFixture.WaitForCircuitAsync(page);
        await page.WaitForSelectorAsync("[data-testid=my-tasks-empty] >> text=You hold no task right now.");
        await page.ClickAsync("[data-testid=open-work] >> text=YOLOv4");
        await page.WaitForSelectorAsync("[data-testid=board-column]");

        // The top card of the Open column: a drag that starts below the fold scrolls the page between pick-up and drop.
        var card = page.Locator("[data-testid=board-column][data-status=Open] [data-testid=task-card]").First;
        Assert.Equal("Open", await card.GetAttributeAsync("data-status"));
        var taskId = long.Parse((await card.GetAttributeAsync("data-task-id"))!);
        var title = await app.WithDbAsync(db => db.Tasks.Where(t => t.Id == taskId).Select(t => t.Title).SingleAsync());
        await card.DragToAsync(page.Locator("[data-testid=board-column][data-status=Claimed] .portal-kanban-zone"));

        await page.WaitForSelectorAsync($"[data-testid=board-column][data-status=Claimed] [data-testid=task-card][data-task-id='{taskId}']");
        await BrowserFixture.WaitForSnackbarAsync(page, $"Claimed “{title}”: it is yours.");
        Assert.Equal(ProjectTaskStatus.Claimed, await app.WithDbAsync(db => db.Tasks.Where(t => t.Id == taskId).Select(t => t.Status).SingleAsync()));

        // The table view is a link away and the address keeps it.
        await page.ClickAsync("[data-testid=view-table]");
        await page.WaitForSelectorAsync($"tr[data-task-id='{taskId}'][data-status=Claimed]");
        Assert.Contains("view=table", page.Url);

        await page.GotoAsync("my-tasks");
        await page.WaitForSelectorAsync($"[data-testid=my-task][data-task-id='{taskId}']");
        await page.ClickAsync($"[data-testid=my-task][data-task-id='{taskId}'] a");
        await page.WaitForSelectorAsync($"[data-testid=task-panel-title] >> text={title}");
        Assert.Contains($"task={taskId}", page.Url);
        Assert.Contains($"projects/{projectId}/board", page.Url);
    }
}
