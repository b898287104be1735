using Bunit;
using MudBlazor;
using Portal.Web.Features.Account;
using Portal.Web.Features.Design;
using Portal.Web.Features.Tasks;

namespace Portal.Web.Tests.Design;

public sealed class DesignComponentTests : FeatureComponentTest
{
    [Theory]
    [InlineData(DesignDocumentState.Draft, "draft")]
    [InlineData(DesignDocumentState.InReview, "in review")]
    [InlineData(DesignDocumentState.ChangesRequested, "changes requested")]
    [InlineData(DesignDocumentState.Approved, "approved")]
    public void The_state_chip_names_the_state(DesignDocumentState state, string label)
    {
        var chip = Render<DesignStateChip>(p => p.Add(c => c.State, state));
        Assert.Equal(label, chip.Find("[data-testid=design-state]").TextContent.Trim());
    }

    private async Task<(long ProjectId, long DocumentId, Portal.Web.Infrastructure.Actor Author, Portal.Web.Infrastructure.Actor Mentor)> DocumentInReviewAsync()
    {
        var projectId = await Db.AddProjectAsync();
        var author = await Db.AddUserAsync("member1", Roles.Member);
        var mentor = await Db.AddUserAsync("mentor1", Roles.Mentor);
        var documents = Db.Get<DesignDocumentService>();
        var id = await documents.CreateAsync(author, projectId, "Head", ModelComponent.Head, "# Head\n\n| out | shape |\n|---|---|\n| raw | [B, 3, S, S, 85] |\n");
        await Db.Get<DesignReviewService>().RequestReviewAsync(author, id, mentor.UserId);
        return (projectId, id, author, mentor);
    }

    [Fact]
    public async Task A_requested_reviewer_approves_from_the_document_page_and_the_state_turns_approved()
    {
        var (projectId, id, _, mentor) = await DocumentInReviewAsync();
        ActAs(mentor);
        Render<MudPopoverProvider>();
        var page = Render<DesignDocumentPage>(p => p.Add(c => c.ProjectId, projectId).Add(c => c.DocumentId, id));

        page.WaitForAssertion(() => Assert.Equal("in review", page.Find("[data-testid=design-state]").TextContent.Trim()));
        Assert.Contains("<table", page.Find("[data-testid=doc-html]").InnerHtml);
        Assert.Empty(page.FindAll("[data-testid=post-version]"));

        page.Find("button[data-testid=approve]").Click();

        page.WaitForAssertion(() => Assert.Equal("approved", page.Find("[data-testid=design-state]").TextContent.Trim()));
    }

    [Fact]
    public async Task The_author_sees_the_editor_but_no_verdict_buttons()
    {
        var (projectId, id, author, _) = await DocumentInReviewAsync();
        ActAs(author);
        Render<MudPopoverProvider>();
        var page = Render<DesignDocumentPage>(p => p.Add(c => c.ProjectId, projectId).Add(c => c.DocumentId, id));

        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=post-version]")));
        Assert.Empty(page.FindAll("[data-testid=verdict-panel]"));
        Assert.Contains("Post version 2", page.Find("[data-testid=post-version]").TextContent);
    }
}
