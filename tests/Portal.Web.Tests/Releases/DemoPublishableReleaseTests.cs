using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Testing;
using Portal.Web.Features.Releases;

namespace Portal.Web.Tests.Releases;

/// <summary>The real server with demo data: one release is ready for the leads, the other shows gates that fail.</summary>
public sealed class DemoPublishableReleaseTests(PortalAppFactory app) : IClassFixture<PortalAppFactory>
{
    [Fact]
    public async Task The_demo_YOLOv3_release_passes_every_gate_but_the_sign_off_and_the_YOLOv4_tiny_release_still_fails()
    {
        _ = app.ServerAddress;
        var releases = await app.WithDbAsync(db => db.Releases.Select(r => new { r.Id, r.Name }).ToListAsync());
        using var scope = app.Services.CreateScope();
        var service = scope.ServiceProvider.GetRequiredService<ReleaseService>();

        var ready = await service.GetAsync(releases.Single(r => r.Name == DemoPublishableRelease.ProjectName).Id);
        Assert.All(ready.Gates.Where(g => g.Kind != GateKind.SignOff), g => Assert.True(g.Passed, $"{g.Title}: {g.Summary}"));
        Assert.Equal(9, ready.Gates.Count);
        Assert.Equal("0 of 1 lead approval.", ready.Gates.Single(g => g.Kind == GateKind.SignOff).Summary);

        var failing = await service.GetAsync(releases.Single(r => r.Name == "YOLOv4-tiny").Id);
        Assert.False(failing.Gates.Single(g => g.Kind == GateKind.Reproducibility).Passed);
        Assert.False(failing.Gates.Single(g => g.Kind == GateKind.Defects).Passed);
    }
}
