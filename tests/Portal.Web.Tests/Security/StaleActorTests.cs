using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Testing;
using Portal.Web.Features.Account;
using Portal.Web.Features.Admin;
using Portal.Web.Features.Tasks;
using Portal.Web.Infrastructure;

namespace Portal.Web.Tests.Security;

/// <summary>
/// An open page keeps the actor it was built with; the services must not trust it. These actors are made from
/// real Identity principals and then the database changes under them, as when an admin acts while the page is open.
/// </summary>
public sealed class StaleActorTests : IClassFixture<PortalAppFactory>
{
    private readonly PortalAppFactory _app;
    public StaleActorTests(PortalAppFactory app) => _app = app;

    private async Task<Actor> ActorAsync(string userName)
    {
        _ = _app.ServerAddress;
        using var scope = _app.Services.CreateScope();
        var signIn = scope.ServiceProvider.GetRequiredService<SignInManager<PortalUser>>();
        var user = await signIn.UserManager.FindByNameAsync(userName) ?? throw new InvalidOperationException(userName);
        return Actor.From(await signIn.CreateUserPrincipalAsync(user));
    }

    private T Service<T>(IServiceScope scope) where T : notnull => scope.ServiceProvider.GetRequiredService<T>();

    private async Task<string> UserIdAsync(string userName) =>
        await _app.WithDbAsync(db => db.Users.Where(u => u.UserName == userName).Select(u => u.Id).SingleAsync());

    [Fact]
    public async Task An_actor_whose_admin_role_was_removed_after_it_was_built_cannot_create_a_user()
    {
        var techLead = await ActorAsync("techlead");
        using var scope = _app.Services.CreateScope();
        var admin = Service<UserAdministration>(scope);
        var leadDataId = await UserIdAsync("lead.data");
        await admin.SetRolesAsync(techLead, leadDataId, [Roles.Lead, Roles.Admin]);
        var openPage = await ActorAsync("lead.data");
        Assert.True(openPage.IsAdmin);

        await admin.SetRolesAsync(techLead, leadDataId, [Roles.Lead]);
        var error = await Assert.ThrowsAsync<PortalError>(() => admin.CreateAsync(openPage,
            new NewUserForm { UserName = "mallory", DisplayName = "Mallory", Password = "Welcome!2026x", Roles = [Roles.Admin] }));

        Assert.Equal(PortalErrorKind.Forbidden, error.Kind);
        Assert.False(await _app.WithDbAsync(db => db.Users.AnyAsync(u => u.UserName == "mallory")));
    }

    [Fact]
    public async Task An_actor_deactivated_after_it_was_built_cannot_create_a_task()
    {
        var techLead = await ActorAsync("techlead");
        var openPage = await ActorAsync("lead.devops");
        using var scope = _app.Services.CreateScope();
        await Service<UserAdministration>(scope).SetActiveAsync(techLead, await UserIdAsync("lead.devops"), false);
        var projectId = await _app.WithDbAsync(db => db.Projects.Select(p => p.Id).FirstAsync());
        var before = await _app.WithDbAsync(db => db.Tasks.CountAsync());

        var error = await Assert.ThrowsAsync<PortalError>(() =>
            Service<TaskEditing>(scope).CreateAsync(openPage, projectId, new TaskForm { Title = "Written after deactivation" }));

        Assert.Equal(PortalErrorKind.Forbidden, error.Kind);
        Assert.Equal(before, await _app.WithDbAsync(db => db.Tasks.CountAsync()));
    }
}
