using System.Reflection;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Testing;
using Portal.Web.Features.Account;
using Portal.Web.Features.Admin;
using Portal.Web.Infrastructure;

namespace Portal.Web.Tests.Security;

/// <summary>
/// Every change the feature services offer, found by reflection (public methods of the registered services that
/// take an <see cref="Actor"/>), tried on the real server by actors who claim every role but whom the database no
/// longer backs: one that does not exist (as anonymous would be) and one that was deactivated. Each is refused
/// before anything is written, whatever the arguments.
/// </summary>
public sealed class EveryChangeRefusesAStaleActorTests : IClassFixture<PortalAppFactory>
{
    private static readonly HashSet<string> AllRoles = [.. Roles.All];
    private readonly PortalAppFactory _app;
    public EveryChangeRefusesAStaleActorTests(PortalAppFactory app) => _app = app;

    private static bool IsRead(MethodInfo m) => m.Name.StartsWith("Get") || m.Name.StartsWith("List") || m.Name.StartsWith("Count");

    public static IEnumerable<MethodInfo> Changes() =>
        typeof(Actor).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsPublic: true, IsAbstract: false } && t.Namespace?.StartsWith("Portal.Web.Features") == true)
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            .Where(m => typeof(Task).IsAssignableFrom(m.ReturnType) && m.GetParameters() is [{ ParameterType: var first }, ..] && first == typeof(Actor) && !IsRead(m));

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var m in Changes())
            foreach (var who in new[] { "unknown", "deactivated" })
                data.Add($"{m.DeclaringType!.Name}.{m.Name}", who);
        return data;
    }

    [Fact]
    public void The_services_offer_at_least_the_known_changes() => Assert.True(Changes().Count() >= 40, $"{Changes().Count()} changes found");

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_change_is_refused_to_an_actor_the_database_does_not_back(string change, string who)
    {
        var method = Changes().Single(m => $"{m.DeclaringType!.Name}.{m.Name}" == change);
        var actor = who == "unknown" ? new Actor("no-such-user", "Nobody", AllRoles) : await DeactivatedAsync();
        using var scope = _app.Services.CreateScope();
        var service = scope.ServiceProvider.GetRequiredService(method.DeclaringType!);
        var before = await RowCountAsync();

        var arguments = method.GetParameters().Select((p, i) => i == 0 ? actor : Placeholder(p.ParameterType)).ToArray();
        var error = await Record.ExceptionAsync(() => (Task)method.Invoke(service, arguments)!);

        var refused = Assert.IsType<PortalError>(error);
        Assert.Equal(PortalErrorKind.Forbidden, refused.Kind);
        Assert.Equal(before, await RowCountAsync());
    }

    private async Task<Actor> DeactivatedAsync()
    {
        _ = _app.ServerAddress;
        using var scope = _app.Services.CreateScope();
        var signIn = scope.ServiceProvider.GetRequiredService<SignInManager<PortalUser>>();
        var user = (await signIn.UserManager.FindByNameAsync("member12"))!;
        var actor = Actor.From(await signIn.CreateUserPrincipalAsync(user)) with { Roles = AllRoles };
        if (user.IsActive)
        {
            var techLead = Actor.From(await signIn.CreateUserPrincipalAsync((await signIn.UserManager.FindByNameAsync("techlead"))!));
            await scope.ServiceProvider.GetRequiredService<UserAdministration>().SetActiveAsync(techLead, user.Id, false);
        }
        return actor;
    }

    private static object? Placeholder(Type type)
    {
        if (type == typeof(string)) return "x";
        if (type == typeof(CancellationToken)) return CancellationToken.None;
        if (type.IsValueType) return Activator.CreateInstance(type);
        if (type.IsGenericType && type.GetGenericArguments() is [var item] && type.IsAssignableFrom(item.MakeArrayType()))
            return Array.CreateInstance(item, 0);
        return type.GetConstructor(Type.EmptyTypes) is not null ? Activator.CreateInstance(type) : null;
    }

    private async Task<long> RowCountAsync()
    {
        _ = _app.ServerAddress;
        return await _app.WithDbAsync(async db =>
            await db.Projects.LongCountAsync() + await db.Tasks.LongCountAsync() + await db.Users.LongCountAsync() +
            await db.Releases.LongCountAsync() + await db.ReleaseAudit.LongCountAsync() + await db.DesignDocuments.LongCountAsync() +
            await db.Runs.LongCountAsync() + await db.AgentTokens.LongCountAsync() + await db.Notifications.LongCountAsync());
    }
}
