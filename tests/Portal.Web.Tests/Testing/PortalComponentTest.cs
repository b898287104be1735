using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;
using Portal.Web.Infrastructure;

namespace Portal.Web.Tests.Testing;

/// <summary>
/// bUnit over a <see cref="PortalTestHost"/>: components get the portal's own services from the host, bUnit's
/// JS interop and MudBlazor, and whoever <see cref="ActAs"/> signed in.
/// </summary>
public abstract class PortalComponentTest<THost> : BunitContext, IAsyncLifetime where THost : PortalTestHost
{
    protected THost Db { get; private set; } = default!;

    protected abstract Task<THost> StartHostAsync();

    public async Task InitializeAsync()
    {
        Db = await StartHostAsync();
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddSingleton<AuthenticationStateProvider>(Db.Authentication);
        Services.AddCascadingAuthenticationState();
        Services.AddAuthorizationCore();
        Services.AddFallbackServiceProvider(Db.Services);
        SetRendererInfo(new RendererInfo("Server", isInteractive: true));
    }

    protected Actor ActAs(Actor actor) => Db.ActAs(actor);

    async Task IAsyncLifetime.DisposeAsync()
    {
        await base.DisposeAsync();
        await Db.DisposeAsync();
    }
}
