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

public sealed class ActivityPageTests : BoardComponentContext
{
    [Fact]
    public async Task The_feed_page_shows_a_new_entry_without_being_reloaded()
    {
        var id = await Db.AddTaskAsync("Checklist: training schedule");
        ActAs(Db.Members[0]);
        var page = Render<ActivityPage>(p => p.Add(a => a.ProjectId, Db.ProjectId));
        page.WaitForElement("[data-testid=activity]");
        Assert.Empty(page.FindAll("[data-testid=activity-entry]"));

        await Db.Claims.ClaimAsync(Db.Members[1], id);

        page.WaitForAssertion(() =>
        {
            var entry = Assert.Single(page.FindAll("[data-testid=activity-entry]")).TextContent;
            Assert.Contains(Db.Members[1].DisplayName, entry);
            Assert.Contains("claimed “Checklist: training schedule”", entry);
        }, TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task Each_entry_links_to_what_it_names()
    {
        var id = await Db.AddTaskAsync("Checklist: anchors");
        await Db.Claims.ClaimAsync(Db.Members[1], id);
        ActAs(Db.Members[0]);

        var page = Render<ActivityPage>(p => p.Add(a => a.ProjectId, Db.ProjectId));

        var link = page.WaitForElement("[data-testid=activity-entry] [data-testid=activity-link]");
        Assert.Equal($"projects/{Db.ProjectId}/board?task={id}", link.GetAttribute("href"));
        Assert.Equal("claimed “Checklist: anchors”", link.TextContent.Trim());
    }
}
