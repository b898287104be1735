using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using Portal.Testing;
using Portal.Web.Features.Projects;
using Portal.Web.Features.Tasks;

namespace Portal.Browser.Tests.Tasks;

/// <summary>
/// Two members on the same task of the demo's board in Chromium: a comment posted by one shows in the other's open
/// task without a reload; the task's address reopens it; the activity feed's entry for the comment leads back to it.
/// </summary>
public sealed class TaskCommentJourneyTests(PortalAppFactory app, BrowserFixture browser) : IClassFixture<PortalAppFactory>, IClassFixture<BrowserFixture>
{
    private async Task<(long ProjectId, long TaskId, string Title)> OpenTaskAsync(int skip)
    {
        _ = app.ServerAddress;
        return await app.WithDbAsync(async db =>
        {
            var projectId = await db.Projects.Where(p => p.Name == "YOLOv4").Select(p => p.Id).SingleAsync();
            var task = await db.Tasks.Where(t => t.ProjectId == projectId && t.Stage == ReproductionStage.PaperAnalysis && t.Status == ProjectTaskStatus.Open)
                .OrderBy(t => t.Id).Skip(skip).FirstAsync();
            return (projectId, task.Id, task.Title);
        });
    }

    private async Task<IPage> OpenAsync(string user, string address)
    {
        var page = await browser.SignInAsync(app.ServerAddress, user);
        await page.GotoAsync(address);
        await BrowserFixture.WaitForCircuitAsync(page);
        return page;
    }

    [Fact]
    public async Task A_comment_posted_in_one_browser_appears_in_another_browser_on_the_same_task_without_a_reload()
    {
        var (projectId, taskId, title) = await OpenTaskAsync(skip: 0);
        var address = $"projects/{projectId}/board?task={taskId}";
        var writer = await OpenAsync("member5", address);
        var reader = await OpenAsync("member6", address);
        // The address alone opened the task in both browsers.
        await writer.WaitForSelectorAsync($"[data-testid=task-panel-title] >> text={title}");
        await reader.WaitForSelectorAsync($"[data-testid=task-panel-title] >> text={title}");
        var readerNavigations = 0;
        reader.FrameNavigated += (_, _) => readerNavigations++;

        await writer.FillAsync("textarea[data-testid=task-comment-input]", "The paper's **Table 3** disagrees with the cfg.");
        await writer.ClickAsync("[data-testid=task-comment-post]");

        var comment = await reader.WaitForSelectorAsync("[data-testid=task-comment] >> text=disagrees with the cfg");
        Assert.Equal("Table 3", await reader.InnerTextAsync("[data-testid=task-comment-body] strong"));
        Assert.Contains("Eli Novak", await reader.InnerTextAsync("[data-testid=task-comment-author]"), StringComparison.Ordinal);
        Assert.NotNull(comment);
        Assert.Equal(0, readerNavigations);
        // The reader may not remove the writer's comment; the writer may.
        Assert.Empty(await reader.QuerySelectorAllAsync("[data-testid=task-comment-delete]"));
        // The writer's own panel shows the comment once its reload after posting has rendered.
        await writer.WaitForSelectorAsync("[data-testid=task-comment] >> text=disagrees with the cfg");
        Assert.Single(await writer.QuerySelectorAllAsync("[data-testid=task-comment-delete]"));
    }

    [Fact]
    public async Task An_empty_comment_shows_its_error_on_the_field_and_posts_nothing()
    {
        var (projectId, taskId, title) = await OpenTaskAsync(skip: 1);
        var page = await OpenAsync("member5", $"projects/{projectId}/board?task={taskId}");
        await page.WaitForSelectorAsync($"[data-testid=task-panel-title] >> text={title}");

        await page.ClickAsync("[data-testid=task-comment-post]");

        await page.WaitForSelectorAsync("[data-testid=task-comment-field] >> text=Write the comment first.");
        Assert.Equal(0, await app.WithDbAsync(db => db.TaskComments.CountAsync(c => c.TaskId == taskId)));
    }

    [Fact]
    public async Task The_activity_entry_of_a_comment_leads_to_the_task_and_back_closes_it_again()
    {
        var (projectId, taskId, title) = await OpenTaskAsync(skip: 2);
        var page = await OpenAsync("member7", $"projects/{projectId}/board?task={taskId}");
        await page.WaitForSelectorAsync($"[data-testid=task-panel-title] >> text={title}");
        await page.FillAsync("textarea[data-testid=task-comment-input]", "Started on this.");
        await page.ClickAsync("[data-testid=task-comment-post]");
        await page.WaitForSelectorAsync("[data-testid=task-comment] >> text=Started on this.");

        await page.GotoAsync($"projects/{projectId}/activity");
        await page.ClickAsync($"[data-testid=activity-link] >> text=commented on “{title}”");

        await page.WaitForSelectorAsync($"[data-testid=task-panel-title] >> text={title}");
        Assert.EndsWith($"projects/{projectId}/board?task={taskId}", page.Url);
        await page.WaitForSelectorAsync("[data-testid=task-comment] >> text=Started on this.");

        // Closing the task takes it out of the address; back brings it again, forward closes it.
        await page.ClickAsync("[aria-label='Close the task']");
        await page.WaitForSelectorAsync("[data-testid=task-panel]", new() { State = WaitForSelectorState.Detached });
        Assert.DoesNotContain("task=", page.Url);
        await page.GoBackAsync();
        await page.WaitForSelectorAsync($"[data-testid=task-panel-title] >> text={title}");
        await page.GoForwardAsync();
        await page.WaitForSelectorAsync("[data-testid=task-panel]", new() { State = WaitForSelectorState.Detached });
    }
}
