using Bunit;
using MudBlazor;
using MudBlazor.Extensions;
using Portal.Web.Features.Account;
using Portal.Web.Features.Design;
using Portal.Web.Features.Tasks;

namespace Portal.Web.Tests.Design;

public sealed class DesignListComponentTests : FeatureComponentTest
{
    [Fact]
    public async Task The_new_document_form_starts_on_the_first_component_that_has_no_document_yet()
    {
        var projectId = await Db.AddProjectAsync();
        var member = await Db.AddUserAsync("member1", Roles.Member);
        var documents = Db.Get<DesignDocumentService>();
        await documents.CreateAsync(member, projectId, "Plan", null, "# Plan");
        await documents.CreateAsync(member, projectId, "Backbone", ModelComponent.Backbone, "# Backbone");
        ActAs(member);
        Render<MudPopoverProvider>();

        var page = Render<DesignList>(p => p.Add(c => c.ProjectId, projectId));

        page.WaitForAssertion(() => Assert.Equal("Neck", page.FindComponent<MudSelect<string>>().Instance.GetState(x => x.Value)));
        Assert.Empty(page.FindAll("[data-testid=no-free-component]"));
        Assert.False(page.Find("button[data-testid=create-doc]").HasAttribute("disabled"));
    }

    [Fact]
    public async Task When_every_component_has_a_document_the_form_says_so_and_offers_no_create()
    {
        var projectId = await Db.AddProjectAsync();
        var member = await Db.AddUserAsync("member1", Roles.Member);
        var documents = Db.Get<DesignDocumentService>();
        await documents.CreateAsync(member, projectId, "Plan", null, "# Plan");
        foreach (var component in Enum.GetValues<ModelComponent>())
            await documents.CreateAsync(member, projectId, component.ToString(), component, $"# {component}");
        ActAs(member);
        Render<MudPopoverProvider>();

        var page = Render<DesignList>(p => p.Add(c => c.ProjectId, projectId));

        page.WaitForAssertion(() => Assert.Contains("every component have a design document already", page.Find("[data-testid=no-free-component]").TextContent));
        Assert.True(page.Find("button[data-testid=create-doc]").HasAttribute("disabled"));
    }
}
