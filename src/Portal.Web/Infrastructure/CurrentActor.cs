using Microsoft.AspNetCore.Components.Authorization;

namespace Portal.Web.Infrastructure;

/// <summary>The signed-in user of the current circuit, as an <see cref="Actor"/>.</summary>
public sealed class CurrentActor(AuthenticationStateProvider authentication)
{
    public async Task<Actor> GetAsync()
    {
        var state = await authentication.GetAuthenticationStateAsync();
        return Actor.From(state.User);
    }
}
