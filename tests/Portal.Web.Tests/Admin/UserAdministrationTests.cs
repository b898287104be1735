using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Testing;
using Portal.Web.Features.Account;
using Portal.Web.Features.Admin;
using Portal.Web.Infrastructure;

namespace Portal.Web.Tests.Admin;

/// <summary>User administration through the real server's Identity stores and SQLite file.</summary>
public sealed class UserAdministrationTests : IClassFixture<PortalAppFactory>
{
    private readonly PortalAppFactory _app;
    public UserAdministrationTests(PortalAppFactory app) => _app = app;

    private async Task<(UserAdministration Admin, Actor TechLead)> ArrangeAsync()
    {
        _ = _app.ServerAddress;
        var scope = _app.Services.CreateScope();
        var signIn = scope.ServiceProvider.GetRequiredService<SignInManager<PortalUser>>();
        var user = await signIn.UserManager.FindByNameAsync("techlead");
        return (scope.ServiceProvider.GetRequiredService<UserAdministration>(), Actor.From(await signIn.CreateUserPrincipalAsync(user!)));
    }

    private Task<int> UserCountAsync() => _app.WithDbAsync(db => db.Users.CountAsync());

    [Fact]
    public async Task An_admin_creates_a_user_with_roles_and_a_sub_team()
    {
        var (admin, techLead) = await ArrangeAsync();
        var id = await admin.CreateAsync(techLead, new NewUserForm
        {
            UserName = "member20", DisplayName = "Uma Sen", Password = "Welcome!2026", SubTeam = SubTeam.Loss, Roles = [Roles.Member, Roles.Mentor],
        });

        var row = (await admin.ListAsync(techLead)).Single(u => u.Id == id);
        Assert.Equal(("Uma Sen", SubTeam.Loss, true), (row.DisplayName, row.SubTeam, row.IsActive));
        Assert.Equal([Roles.Member, Roles.Mentor], row.Roles);
    }

    [Fact]
    public async Task A_taken_name_a_weak_password_or_an_unknown_role_is_refused_and_no_account_is_left_behind()
    {
        var (admin, techLead) = await ArrangeAsync();
        var before = await UserCountAsync();

        Assert.Contains("taken", (await Assert.ThrowsAsync<PortalError>(() => admin.CreateAsync(techLead,
            new NewUserForm { UserName = "member1", DisplayName = "Dup", Password = "Welcome!2026" }))).Message);
        await Assert.ThrowsAsync<PortalError>(() => admin.CreateAsync(techLead,
            new NewUserForm { UserName = "weak.one", DisplayName = "Weak", Password = "123" }));
        Assert.Contains("no role", (await Assert.ThrowsAsync<PortalError>(() => admin.CreateAsync(techLead,
            new NewUserForm { UserName = "odd.one", DisplayName = "Odd", Password = "Welcome!2026", Roles = ["Overlord"] }))).Message);
        await Assert.ThrowsAsync<PortalError>(() => admin.CreateAsync(techLead,
            new NewUserForm { UserName = new string('x', 101), DisplayName = "Long", Password = "Welcome!2026" }));

        Assert.Equal(before, await UserCountAsync());
    }

    [Fact]
    public async Task An_admin_cannot_lock_themself_out()
    {
        var (admin, techLead) = await ArrangeAsync();
        await Assert.ThrowsAsync<PortalError>(() => admin.SetActiveAsync(techLead, techLead.UserId, false));
        await Assert.ThrowsAsync<PortalError>(() => admin.SetRolesAsync(techLead, techLead.UserId, [Roles.Lead]));

        var me = (await admin.ListAsync(techLead)).Single(u => u.Id == techLead.UserId);
        Assert.True(me.IsActive);
        Assert.Contains(Roles.Admin, me.Roles);
    }

    [Fact]
    public async Task Roles_and_sub_team_changes_are_stored_and_an_unknown_user_is_not_found()
    {
        var (admin, techLead) = await ArrangeAsync();
        var member = (await admin.ListAsync(techLead)).Single(u => u.UserName == "member12");

        await admin.SetRolesAsync(techLead, member.Id, [Roles.Member, Roles.Lead]);
        await admin.SetSubTeamAsync(techLead, member.Id, SubTeam.DevOps);
        await admin.SetActiveAsync(techLead, member.Id, false);

        var after = (await admin.ListAsync(techLead)).Single(u => u.Id == member.Id);
        Assert.Equal([Roles.Member, Roles.Lead], after.Roles);
        Assert.Equal((SubTeam.DevOps, false), (after.SubTeam, after.IsActive));
        Assert.Equal(PortalErrorKind.NotFound, (await Assert.ThrowsAsync<PortalError>(() => admin.SetSubTeamAsync(techLead, "no-such-id", null))).Kind);
    }
}
