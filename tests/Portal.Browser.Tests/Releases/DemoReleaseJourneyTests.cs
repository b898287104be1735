using System.IO.Compression;
using Microsoft.EntityFrameworkCore;
using Portal.Testing;

namespace Portal.Browser.Tests.Releases;

/// <summary>On the demo as it starts: a lead finds the release that waits only for the sign-off, approves it and publishes it.</summary>
public sealed class DemoReleaseJourneyTests(PortalAppFactory app, BrowserFixture browser) : IClassFixture<PortalAppFactory>, IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task A_lead_approves_and_publishes_the_demo_release_and_downloads_its_bundle()
    {
        var server = app.ServerAddress;
        var releaseId = await app.WithDbAsync(db => db.Releases.Where(r => r.Name == "YOLOv3").Select(r => r.Id).SingleAsync());
        var lead = await browser.SignInAsync(server, "techlead");
        await lead.GotoAsync($"releases/{releaseId}");
        await BrowserFixture.WaitForCircuitAsync(lead);

        foreach (var gate in new[] { "Stages", "Design", "Reproducibility", "Seeds", "IndependentRerun", "ModelCard", "ReferenceMatch", "Defects" })
            await lead.WaitForSelectorAsync($"[data-testid=gate-{gate}][data-state=Pass]");
        await lead.WaitForSelectorAsync("[data-testid=gate-SignOff][data-state=Fail]");
        Assert.Equal("Publishing needs every gate to pass; this one fails: Sign-off.", await lead.InnerTextAsync("[data-testid=publish-blocked]"));
        var gates = await lead.InnerTextAsync("[data-testid=gates]");
        Assert.DoesNotContain("(s)", gates);
        Assert.DoesNotMatch(@"-0\.0(?![0-9])", gates);

        await lead.ClickAsync("[data-testid=approve]");
        await lead.WaitForSelectorAsync("[data-testid=gate-SignOff][data-state=Pass]");
        await lead.ClickAsync("[data-testid=publish]");
        await lead.WaitForSelectorAsync("[data-testid=release-status] >> text=Published");

        var download = await lead.RunAndWaitForDownloadAsync(() => lead.ClickAsync("[data-testid=download-bundle]"));
        var zipPath = Path.Combine(app.DataDirectory, "demo-release.zip");
        await download.SaveAsAsync(zipPath);
        Assert.Equal("YOLOv3-1.0.0.zip", download.SuggestedFilename);
        using var zip = ZipFile.OpenRead(zipPath);
        Assert.Contains("MODEL_CARD.md", zip.Entries.Select(e => e.FullName));
        Assert.Contains("checkpoint/weights.demo.ckpt", zip.Entries.Select(e => e.FullName));
    }
}
