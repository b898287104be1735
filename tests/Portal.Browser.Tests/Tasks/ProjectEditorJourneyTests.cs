using Microsoft.EntityFrameworkCore;
using Portal.Testing;

namespace Portal.Browser.Tests.Tasks;

public sealed class ProjectEditorJourneyTests : IClassFixture<PortalAppFactory>, IClassFixture<BrowserFixture>
{
    private readonly PortalAppFactory _app;
    private readonly BrowserFixture _browser;

    public ProjectEditorJourneyTests(PortalAppFactory app, BrowserFixture browser) => (_app, _browser) = (app, browser);

    [Fact]
    public async Task A_lead_creates_a_project_after_being_told_what_is_missing()
    {
        var lead = await _browser.SignInAsync(_app.ServerAddress, "lead.data");
        await lead.ClickAsync("[data-testid=project-new]");
        await lead.WaitForSelectorAsync("[data-testid=project-form]");

        await lead.ClickAsync("[data-testid=project-save]");
        await lead.WaitForSelectorAsync("[data-testid=form-error] >> text=A project needs a name.");

        await lead.FillAsync("[data-testid=project-name]", "YOLOv7");
        await lead.FillAsync("[data-testid=paper-title]", "YOLOv7: Trainable bag-of-freebies");
        await lead.FillAsync("[data-testid=claim-source]", "Table 1");
        await lead.ClickAsync("[data-testid=project-save]");

        await lead.WaitForSelectorAsync("h4 >> text=YOLOv7");
        Assert.Equal(1, await _app.WithDbAsync(db => db.Projects.CountAsync(p => p.Name == "YOLOv7")));
    }
}
