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

namespace Portal.Web.Tests.Tasks;

/// <summary>
/// bUnit setup shared by the board, stage panel and activity components: MudBlazor, an interactive server
/// renderer, and the real services over a <see cref="BoardDatabase"/> (a SQLite file with a small team).
/// </summary>
public abstract class BoardComponentContext : BunitContext, IAsyncLifetime
{
    private Bunit.TestDoubles.BunitAuthorizationContext _auth = default!;

    protected BoardDatabase Db { get; private set; } = default!;

    public async Task InitializeAsync()
    {
        Db = await BoardDatabase.CreateAsync();
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddSingleton<IDbContextFactory<PortalDbContext>>(Db);
        Services.AddSingleton(Db.Live);
        Services.AddSingleton(Db.Markdown);
        Services.AddSingleton(Db.Board);
        Services.AddSingleton(Db.Claims);
        Services.AddSingleton(Db.Editing);
        Services.AddSingleton(Db.Projects);
        Services.AddSingleton(new ProjectService(Db));
        Services.AddSingleton(new ActivityFeed(Db));
        Services.AddSingleton(new Portal.Web.Features.Defects.DefectService(Db, Db.Activity, Db.Inbox, Db.Live, Db.Markdown, Db.Clock));
        Services.AddSingleton(new Portal.Web.Features.Defects.DefectQueries(Db));
        Services.AddScoped<CurrentActor>();
        _auth = AddAuthorization();
        SetRendererInfo(new RendererInfo("Server", isInteractive: true));
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await base.DisposeAsync();
        await Db.DisposeAsync();
    }

    protected void SignInAs(Actor actor)
    {
        _auth.SetAuthorized(actor.DisplayName);
        _auth.SetRoles(actor.Roles.ToArray());
        _auth.SetClaims(new Claim(ClaimTypes.NameIdentifier, actor.UserId), new Claim(PortalClaims.DisplayName, actor.DisplayName));
    }
}
