using System.Security.Claims;
using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;
using Portal.Web.Data;
using Portal.Web.Features.Analysis;
using Portal.Web.Features.Design;
using Portal.Web.Features.Inbox;
using Portal.Web.Features.Projects;
using Portal.Web.Infrastructure;

namespace Portal.Web.Tests.Design;

/// <summary>bUnit with MudBlazor and this feature's real services over a <see cref="FeatureDatabase"/>.</summary>
public abstract class FeatureComponentTest : BunitContext, IAsyncLifetime
{
    protected FeatureDatabase Db { get; } = new();

    protected FeatureComponentTest()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddSingleton<IDbContextFactory<PortalDbContext>>(Db);
        Services.AddSingleton<TimeProvider>(Db.Clock);
        Services.AddSingleton(Db.Live);
        Services.AddSingleton(Db.Inbox);
        Services.AddSingleton(Db.Markdown);
        Services.AddScoped<CurrentActor>();
        Services.AddScoped<ProjectService>();
        Services.AddScoped<InboxService>();
        Services.AddScoped<DesignDocumentService>();
        Services.AddScoped<DesignReviewService>();
        Services.AddScoped<SpecificationService>();
        Services.AddScoped<ChecklistService>();
        Services.AddSingleton<AuthenticationStateProvider>(_auth);
        SetRendererInfo(new RendererInfo("Server", true));
    }

    private readonly SignedInUser _auth = new();

    protected void SignIn(Actor actor)
    {
        Claim[] claims = [new(ClaimTypes.NameIdentifier, actor.UserId), new(ClaimTypes.Name, actor.DisplayName), .. actor.Roles.Select(r => new Claim(ClaimTypes.Role, r))];
        _auth.User = new ClaimsPrincipal(new ClaimsIdentity(claims, "test"));
    }

    private sealed class SignedInUser : AuthenticationStateProvider
    {
        public ClaimsPrincipal User { get; set; } = new(new ClaimsIdentity());
        public override Task<AuthenticationState> GetAuthenticationStateAsync() => Task.FromResult(new AuthenticationState(User));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    async Task IAsyncLifetime.DisposeAsync()
    {
        await base.DisposeAsync();
        Db.Dispose();
    }
}
