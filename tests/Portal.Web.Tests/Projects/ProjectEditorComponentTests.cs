using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using Portal.Web.Features.Projects;
using Portal.Web.Tests.Tasks;

namespace Portal.Web.Tests.Projects;

public sealed class ProjectEditorComponentTests : BoardComponentContext
{
    [Fact]
    public void A_new_project_without_a_name_is_refused_inside_the_form_not_in_a_snackbar()
    {
        ActAs(Db.Lead);
        Render<MudPopoverProvider>();
        var editor = Render<ProjectEditor>();
        editor.WaitForElement("[data-testid=project-save]").Click();

        editor.WaitForAssertion(() => Assert.Equal("A project needs a name.", editor.Find("[data-testid=project-form] [data-testid=form-error]").TextContent.Trim()));
        Assert.Empty(Services.GetRequiredService<ISnackbar>().ShownSnackbars);
    }
}
