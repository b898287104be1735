using System.Security.Claims;
using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;
using Portal.Web.Data;
using Portal.Web.Features.Activity;
using Portal.Web.Features.Projects;
using Portal.Web.Infrastructure;
using Portal.Web.Tests.Tasks;

namespace Portal.Web.Tests.Activity;

public sealed class ActivityPageTests : BunitContext, IAsyncLifetime
{
    private BoardDatabase _db = default!;

    public async Task InitializeAsync()
    {
        _db = await BoardDatabase.CreateAsync();
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddSingleton<IDbContextFactory<PortalDbContext>>(_db);
        Services.AddSingleton(_db.Live);
        Services.AddSingleton(new ProjectService(_db));
        Services.AddSingleton(new ActivityFeed(_db));
        var auth = AddAuthorization();
        auth.SetAuthorized(_db.Members[0].DisplayName);
        auth.SetClaims(new Claim(ClaimTypes.NameIdentifier, _db.Members[0].UserId));
        SetRendererInfo(new RendererInfo("Server", isInteractive: true));
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await base.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task The_feed_page_shows_a_new_entry_without_being_reloaded()
    {
        var id = await _db.AddTaskAsync("Checklist: training schedule");
        var page = Render<ActivityPage>(p => p.Add(a => a.ProjectId, _db.ProjectId));
        page.WaitForElement("[data-testid=activity]");
        Assert.Empty(page.FindAll("[data-testid=activity-entry]"));

        await _db.Claims.ClaimAsync(_db.Members[1], id);

        page.WaitForAssertion(() =>
        {
            var entry = Assert.Single(page.FindAll("[data-testid=activity-entry]")).TextContent;
            Assert.Contains(_db.Members[1].DisplayName, entry);
            Assert.Contains("claimed “Checklist: training schedule”", entry);
        }, TimeSpan.FromSeconds(1));
    }
}
