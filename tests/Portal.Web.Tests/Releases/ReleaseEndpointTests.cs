using System.Net;
using Microsoft.EntityFrameworkCore;
using Portal.Testing;
using Portal.Web.Features.Releases;

namespace Portal.Web.Tests.Releases;

/// <summary>Against the real server with the demo data: the YOLOv4-tiny draft release and its val-split runs.</summary>
public sealed class ReleaseEndpointTests : IClassFixture<PortalAppFactory>
{
    private readonly PortalAppFactory _app;
    public ReleaseEndpointTests(PortalAppFactory app) => _app = app;

    private async Task<long> DemoReleaseIdAsync()
    {
        _ = _app.ServerAddress;
        return await _app.WithDbAsync(db => db.Releases.Where(r => r.Name == "YOLOv4-tiny").Select(r => r.Id).SingleAsync());
    }

    [Fact]
    public async Task A_members_approval_is_refused_by_the_server()
    {
        var id = await DemoReleaseIdAsync();
        using var member = await SignedInClient.CreateAsync(_app.ServerAddress, "member2");

        var response = await SignedInClient.PostWithTokenAsync(member, $"api/releases/{id}/approve");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("Only a lead can approve a release.", await response.Content.ReadAsStringAsync());
        Assert.Equal(0, await _app.WithDbAsync(db => db.ReleaseApprovals.CountAsync(a => a.ReleaseId == id)));
    }

    [Fact]
    public async Task A_leads_approval_of_the_demo_release_is_refused_because_its_runs_are_on_val()
    {
        var id = await DemoReleaseIdAsync();
        using var lead = await SignedInClient.CreateAsync(_app.ServerAddress, "lead.data");

        var response = await SignedInClient.PostWithTokenAsync(lead, $"api/releases/{id}/approve");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("Reproducibility: 2 of 2 claims not reproduced", body);
        Assert.Equal(0, await _app.WithDbAsync(db => db.ReleaseApprovals.CountAsync(a => a.ReleaseId == id)));
    }

    [Fact]
    public async Task The_demo_release_page_shows_the_split_mismatch_to_a_member()
    {
        var id = await DemoReleaseIdAsync();
        using var member = await SignedInClient.CreateAsync(_app.ServerAddress, "member5");

        var html = WebUtility.HtmlDecode(await member.GetStringAsync($"releases/{id}"));

        Assert.Contains("YOLOv4-tiny 1.0.0-rc1", html);
        Assert.Contains("AP: 3 runs on val (mean 21.21) not counted: the paper's number is on test-dev.", html);
        Assert.Contains("AP50: 3 runs on val (mean 41.68) not counted", html);
        Assert.DoesNotContain("data-testid=\"approve\"", html);
    }

    [Fact]
    public async Task A_draft_has_no_bundle_to_download()
    {
        var id = await DemoReleaseIdAsync();
        using var member = await SignedInClient.CreateAsync(_app.ServerAddress, "member5");

        var response = await member.GetAsync($"releases/{id}/bundle");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("is not published; it has no bundle yet.", await response.Content.ReadAsStringAsync());
        Assert.Equal(ReleaseStatus.Draft, await _app.WithDbAsync(db => db.Releases.Where(r => r.Id == id).Select(r => r.Status).SingleAsync()));
    }

    [Fact]
    public async Task The_project_releases_page_lists_the_draft_and_offers_a_new_release_to_leads_only()
    {
        var projectId = await _app.WithDbAsync(db => db.Projects.Where(p => p.Name == "YOLOv4-tiny").Select(p => p.Id).SingleAsync());
        using var member = await SignedInClient.CreateAsync(_app.ServerAddress, "member6");
        using var lead = await SignedInClient.CreateAsync(_app.ServerAddress, "lead.devops");

        var memberHtml = await member.GetStringAsync($"projects/{projectId}/releases");
        var leadHtml = await lead.GetStringAsync($"projects/{projectId}/releases");

        Assert.Contains("YOLOv4-tiny 1.0.0-rc1", memberHtml);
        Assert.DoesNotContain("data-testid=\"new-release\"", memberHtml);
        Assert.Contains("data-testid=\"new-release\"", leadHtml);
    }
}
