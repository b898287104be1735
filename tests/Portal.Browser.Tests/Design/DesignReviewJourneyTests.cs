using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using Portal.Testing;
using static Microsoft.Playwright.Assertions;

namespace Portal.Browser.Tests.Design;

public sealed class DesignReviewJourneyTests : IClassFixture<PortalAppFactory>, IClassFixture<BrowserFixture>
{
    private static readonly LocatorAssertionsToHaveTextOptions Patient = new() { Timeout = 15_000 };
    // The document's own state chip; the project's list shows one per document.
    private const string DocumentState = "[data-testid=doc-header] [data-testid=design-state]";
    private readonly PortalAppFactory _app;
    private readonly BrowserFixture _browser;

    public DesignReviewJourneyTests(PortalAppFactory app, BrowserFixture browser) => (_app, _browser) = (app, browser);

    [Fact]
    public async Task A_member_and_a_mentor_take_a_design_document_from_draft_to_approved_and_both_browsers_follow_live()
    {
        var projectId = await _app.WithDbAsync(db => db.Projects.Where(p => p.Name == "YOLOv3").Select(p => p.Id).SingleAsync());

        // The member writes the document and asks the mentor for a review.
        var member = await _browser.SignInAsync(_app.ServerAddress, "member4");
        await member.GotoAsync($"projects/{projectId}/design");
        await BrowserFixture.WaitForCircuitAsync(member);
        await Field(member, "new-doc-title").FillAsync("YOLOv3 reproduction plan");
        await Field(member, "new-doc-markdown").FillAsync("# Plan\n\n| Component | Owner |\n|---|---|\n| Darknet-53 | Modeling |\n\n- [ ] convert weights\n");
        await member.ClickAsync("[data-testid=create-doc]");
        await Expect(member.Locator(DocumentState)).ToHaveTextAsync("draft", Patient);
        await Expect(member.Locator("[data-testid=doc-html] table")).ToBeVisibleAsync();
        var documentUrl = new Uri(member.Url).AbsolutePath;

        await member.Locator(".mud-select").Filter(new() { HasText = "Request a review from" }).First.ClickAsync();
        await member.Locator(".mud-popover-open .mud-list-item").Filter(new() { HasText = "Prof. Miriam Stone" }).ClickAsync();
        await member.ClickAsync("[data-testid=request-review]");
        await Expect(member.Locator(DocumentState)).ToHaveTextAsync("in review", Patient);

        // The mentor sees the request in the inbox, comments, then requests changes.
        var mentor = await _browser.SignInAsync(_app.ServerAddress, "mentor1");
        var mentorUnread = await UnreadAsync("mentor1");
        Assert.True(mentorUnread >= 1);
        await Expect(mentor.Locator(".inbox-badge .mud-badge")).ToHaveTextAsync(mentorUnread.ToString(), Patient);
        await mentor.GotoAsync(documentUrl);
        await BrowserFixture.WaitForCircuitAsync(mentor);
        await Field(mentor, "verdict-comment").FillAsync("Which split do the numbers come from?");
        await mentor.ClickAsync("[data-testid=comment-verdict]");
        await Expect(mentor.Locator("[data-testid=comment]").First).ToContainTextAsync("Which split", new() { Timeout = 15_000 });
        await Field(mentor, "verdict-comment").FillAsync("Say that the claim is on COCO test-dev.");
        await mentor.ClickAsync("[data-testid=request-changes]");
        await Expect(mentor.Locator(DocumentState)).ToHaveTextAsync("changes requested", Patient);

        // The member's open page follows without a reload, and so does their inbox badge.
        await Expect(member.Locator(DocumentState)).ToHaveTextAsync("changes requested", Patient);
        await Expect(member.Locator("[data-testid=comment]")).ToHaveCountAsync(2, new() { Timeout = 15_000 });
        await Expect(member.Locator(".inbox-badge .mud-badge")).ToHaveTextAsync((await UnreadAsync("member4")).ToString(), Patient);

        // A new version starts a new round.
        await Field(member, "draft-markdown").FillAsync("# Plan\n\nThe claim (33.0 AP) is on COCO test-dev.\n");
        await member.ClickAsync("[data-testid=post-version]");
        await Expect(member.Locator(DocumentState)).ToHaveTextAsync("in review", Patient);
        await Expect(mentor.Locator("[data-testid=verdict-panel] h6")).ToHaveTextAsync("Your review of version 2", Patient);
        await Expect(mentor.Locator("[data-testid=doc-html]")).ToContainTextAsync("COCO test-dev", new() { Timeout = 15_000 });

        await mentor.ClickAsync("[data-testid=approve]");
        await Expect(mentor.Locator(DocumentState)).ToHaveTextAsync("approved", Patient);

        // The member's browser shows the approval without a reload.
        await Expect(member.Locator(DocumentState)).ToHaveTextAsync("approved", Patient);
        Assert.EndsWith(documentUrl, new Uri(member.Url).AbsolutePath);
    }

    [Fact]
    public async Task A_line_comment_shows_under_its_line_is_resolved_and_reopened_and_turns_outdated_when_a_new_version_changes_that_line()
    {
        var projectId = await _app.WithDbAsync(db => db.Projects.Where(p => p.Name == "YOLOv3").Select(p => p.Id).SingleAsync());

        // The member writes a document for whichever part of the model has none yet: the form starts on one.
        var member = await _browser.SignInAsync(_app.ServerAddress, "member4");
        await member.GotoAsync($"projects/{projectId}/design");
        await BrowserFixture.WaitForCircuitAsync(member);
        await Field(member, "new-doc-title").FillAsync("YOLOv3 loss");
        await Field(member, "new-doc-markdown").FillAsync("# Loss\n\nBoxes: MSE on tx, ty, tw, th.\nObjectness: BCE.\nClasses: BCE per class.\n");
        await member.ClickAsync("[data-testid=create-doc]");
        await Expect(member.Locator(DocumentState)).ToHaveTextAsync("draft", Patient);
        var documentUrl = new Uri(member.Url).AbsolutePath;

        // The mentor picks line 4 in the lines view: it is highlighted and the comment box opens right under it.
        var mentor = await _browser.SignInAsync(_app.ServerAddress, "mentor1");
        await mentor.GotoAsync(documentUrl);
        await BrowserFixture.WaitForCircuitAsync(mentor);
        await mentor.GetByText("Lines and line comments").ClickAsync();
        await mentor.Locator("tr[data-testid=doc-line][data-line='4'] a").ClickAsync();
        await Expect(mentor.Locator("tr[data-testid=doc-line][data-line='4']")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("design-line-selected"));
        await Expect(mentor.Locator("tr[data-testid=doc-line][data-line='4'] + tr[data-testid=line-comment-form]")).ToBeVisibleAsync();
        await Field(mentor, "line-comment-text").FillAsync("Objectness: is the ignore threshold 0.5?");
        await mentor.ClickAsync("[data-testid=line-comment-submit]");
        var underLine4 = "tr[data-testid=doc-line][data-line='4'] + tr[data-testid=line-threads]";
        await Expect(mentor.Locator(underLine4)).ToContainTextAsync("ignore threshold 0.5", new() { Timeout = 15_000 });

        // The author's page follows live; from the lines view the author resolves the thread, which folds.
        await Expect(member.Locator("[data-testid=line-comments-hint]")).ToBeVisibleAsync(new() { Timeout = 15_000 });
        await member.Locator("[data-testid=line-comments-hint] a").ClickAsync();
        await Expect(member.Locator(underLine4)).ToContainTextAsync("ignore threshold 0.5", new() { Timeout = 15_000 });
        await member.Locator($"{underLine4} [data-testid=resolve-thread]").ClickAsync();
        await Expect(member.Locator($"{underLine4} [data-testid=thread-resolved]")).ToContainTextAsync("resolved by", new() { Timeout = 15_000 });
        await Expect(member.Locator($"{underLine4} [data-testid=comment]")).ToHaveCountAsync(0);
        await Expect(mentor.Locator($"{underLine4} [data-testid=thread-resolved]")).ToBeVisibleAsync(new() { Timeout = 15_000 });

        // The mentor opens it again.
        await mentor.Locator($"{underLine4} [data-testid=thread-toggle]").ClickAsync();
        await mentor.Locator($"{underLine4} [data-testid=reopen-thread]").ClickAsync();
        await Expect(mentor.Locator($"{underLine4} [data-testid=thread-resolved]")).ToHaveCountAsync(0, new() { Timeout = 15_000 });
        await Expect(mentor.Locator($"{underLine4} [data-testid=comment]")).ToContainTextAsync("ignore threshold 0.5");

        // A new version rewrites line 4: the thread leaves the line, marked outdated and folded, still readable.
        await Field(member, "draft-markdown").FillAsync("# Loss\n\nBoxes: MSE on tx, ty, tw, th.\nObjectness: BCE, predictions over IoU 0.5 ignored.\nClasses: BCE per class.\n");
        await member.ClickAsync("[data-testid=post-version]");
        var outdated = mentor.Locator("[data-testid=threads] [data-testid=thread]").Filter(new() { Has = mentor.Locator("[data-testid=thread-outdated]") });
        await Expect(outdated).ToHaveCountAsync(1, new() { Timeout = 15_000 });
        await Expect(mentor.Locator("tr[data-testid=line-threads]")).ToHaveCountAsync(0);
        await Expect(mentor.Locator("tr[data-testid=doc-line][data-line='4']")).ToContainTextAsync("predictions over IoU 0.5 ignored");
        await Expect(outdated.Locator("[data-testid=comment]")).ToHaveCountAsync(0);
        await outdated.Locator("[data-testid=thread-toggle]").ClickAsync();
        await Expect(outdated.Locator("[data-testid=comment]")).ToContainTextAsync("ignore threshold 0.5");
        await Expect(outdated.Locator(".design-quoted-line")).ToHaveTextAsync("Objectness: BCE.");
    }

    private Task<int> UnreadAsync(string userName) =>
        _app.WithDbAsync(db => db.Notifications.CountAsync(n => n.ReadAt == null && db.Users.Any(u => u.Id == n.UserId && u.UserName == userName)));

    /// <summary>The input or textarea of a MudBlazor text field marked with a data-testid.</summary>
    private static ILocator Field(IPage page, string testId) =>
        page.Locator($"input[data-testid={testId}], textarea[data-testid={testId}], [data-testid={testId}] input, [data-testid={testId}] textarea").First;
}
