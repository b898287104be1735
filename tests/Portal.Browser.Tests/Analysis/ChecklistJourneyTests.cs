using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Portal.Testing;
using Portal.Web.Features.Account;
using Portal.Web.Features.Analysis;
using Portal.Web.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Portal.Browser.Tests.Analysis;

public sealed class ChecklistJourneyTests : IClassFixture<PortalAppFactory>, IClassFixture<BrowserFixture>
{
    private static readonly LocatorAssertionsToContainTextOptions Patient = new() { Timeout = 15_000 };
    private readonly PortalAppFactory _app;
    private readonly BrowserFixture _browser;

    public ChecklistJourneyTests(PortalAppFactory app, BrowserFixture browser) => (_app, _browser) = (app, browser);

    [Fact]
    public async Task Answering_over_another_persons_answer_warns_first_and_the_history_keeps_both()
    {
        var projectId = await _app.WithDbAsync(db => db.Projects.Where(p => p.Name == "YOLOv4").Select(p => p.Id).SingleAsync());
        var previousWriter = await _app.WithDbAsync(db => db.Users.Where(u => u.UserName == "member2").Select(u => u.DisplayName).SingleAsync());
        var page = await _browser.SignInAsync(_app.ServerAddress, "member4");
        await page.GotoAsync($"projects/{projectId}/analysis");
        await BrowserFixture.WaitForCircuitAsync(page);

        var row = Item(page, "Loss functions");
        await row.Locator("[data-testid=edit-answer]").ClickAsync();
        await Field(page, "answer").FillAsync("CIoU for boxes; BCE with label smoothing 0 for objectness and classes.");
        await page.ClickAsync("[data-testid=save-answer]");

        var warning = page.Locator("[data-testid=overwrite-warning]");
        await Expect(warning).ToContainTextAsync($"This replaces {previousWriter}'s answer", Patient);
        await Expect(warning).ToContainTextAsync("CIoU loss for boxes, BCE for objectness and classes.");
        Assert.Equal("CIoU loss for boxes, BCE for objectness and classes.", await AnswerAsync("Loss functions"));

        await page.ClickAsync("[data-testid=confirm-overwrite]");
        await Expect(row).ToContainTextAsync("label smoothing 0", Patient);
        await row.Locator("[data-testid=answer-history-toggle]").ClickAsync();
        var history = page.Locator("[data-testid=answer-revision]");
        await Expect(history).ToHaveCountAsync(2);
        await Expect(history.Nth(0)).ToContainTextAsync("label smoothing 0");
        await Expect(history.Nth(1)).ToContainTextAsync($"{previousWriter}");
        await Expect(history.Nth(1)).ToContainTextAsync("CIoU loss for boxes");
    }

    [Fact]
    public async Task A_save_over_an_answer_someone_else_wrote_after_the_editor_opened_is_refused_until_confirmed()
    {
        var projectId = await _app.WithDbAsync(db => db.Projects.Where(p => p.Name == "YOLOv4").Select(p => p.Id).SingleAsync());
        var page = await _browser.SignInAsync(_app.ServerAddress, "member6");
        await page.GotoAsync($"projects/{projectId}/analysis");
        await BrowserFixture.WaitForCircuitAsync(page);

        var row = Item(page, "Custom layers");
        await row.Locator("[data-testid=edit-answer]").ClickAsync();
        await Field(page, "answer").FillAsync("Mish activation.");
        await Field(page, "source").FillAsync("Section 3.4");

        // Someone else answers the same item while the editor is open.
        var other = await ActorAsync("member9");
        var itemId = await _app.WithDbAsync(db => db.ChecklistItems.Where(i => i.ProjectId == projectId && i.Question == "Custom layers").Select(i => i.Id).SingleAsync());
        using (var scope = _app.Services.CreateScope())
            await scope.ServiceProvider.GetRequiredService<ChecklistService>().AnswerAsync(other, itemId, "Mish, and the SAM and PAN modifications.", "Section 3.4", 0);

        await page.ClickAsync("[data-testid=save-answer]");
        await Expect(page.Locator("[data-testid=overwrite-warning]")).ToContainTextAsync($"{other.DisplayName} changed this answer after you opened it", Patient);
        Assert.Equal("Mish, and the SAM and PAN modifications.", await AnswerAsync("Custom layers"));

        await page.ClickAsync("[data-testid=confirm-overwrite]");
        await Expect(page.Locator("[data-testid=overwrite-warning]")).ToHaveCountAsync(0, new() { Timeout = 15_000 });
        Assert.Equal("Mish activation.", await AnswerAsync("Custom layers"));
        Assert.Equal(2, await _app.WithDbAsync(db => db.ChecklistAnswerRevisions.CountAsync(r => r.ItemId == itemId)));
    }

    private static ILocator Item(IPage page, string question) =>
        page.Locator("tr[data-testid=checklist-item]").Filter(new() { HasText = question });

    private Task<string> AnswerAsync(string question) =>
        _app.WithDbAsync(db => db.ChecklistItems.Where(i => i.Question == question && db.Projects.Any(p => p.Id == i.ProjectId && p.Name == "YOLOv4")).Select(i => i.Answer).SingleAsync());

    private async Task<Actor> ActorAsync(string userName)
    {
        using var scope = _app.Services.CreateScope();
        var signIn = scope.ServiceProvider.GetRequiredService<SignInManager<PortalUser>>();
        var user = await signIn.UserManager.FindByNameAsync(userName) ?? throw new InvalidOperationException(userName);
        return Actor.From(await signIn.CreateUserPrincipalAsync(user));
    }

    private static ILocator Field(IPage page, string testId) =>
        page.Locator($"input[data-testid={testId}], textarea[data-testid={testId}], [data-testid={testId}] input, [data-testid={testId}] textarea").First;
}
