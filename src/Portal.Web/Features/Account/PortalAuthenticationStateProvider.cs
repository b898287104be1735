using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Portal.Web.Features.Account;

/// <summary>
/// The sign-in of an open circuit is checked against the database every 15 seconds, and at once when
/// <see cref="UserSessions"/> says the user changed: a deactivated account, a changed role (both change the
/// security stamp) or a sign-out turn the circuit anonymous, and the page sends the browser to the sign-in form.
/// </summary>
public sealed class PortalAuthenticationStateProvider : RevalidatingServerAuthenticationStateProvider
{
    private readonly IServiceScopeFactory _scopes;
    private readonly IdentityOptions _identity;
    private readonly IDisposable _registration;
    private readonly ILogger _logger;

    public PortalAuthenticationStateProvider(ILoggerFactory loggerFactory, IServiceScopeFactory scopes,
        IOptions<IdentityOptions> identity, UserSessions sessions) : base(loggerFactory)
    {
        _scopes = scopes;
        _identity = identity.Value;
        _logger = loggerFactory.CreateLogger<PortalAuthenticationStateProvider>();
        _registration = sessions.Register(RecheckAsync);
    }

    // The immediate recheck is the rule; the periodic one is the backstop for a circuit that missed it (one
    // registered while the change was being made, or whose recheck hit a busy database), so it stays short.
    protected override TimeSpan RevalidationInterval => TimeSpan.FromSeconds(15);

    protected override async Task<bool> ValidateAuthenticationStateAsync(AuthenticationState authenticationState, CancellationToken cancellationToken)
    {
        await using var scope = _scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        var principal = authenticationState.User;
        var user = await users.GetUserAsync(principal);
        if (user is not { IsActive: true }) return false;
        if (!users.SupportsUserSecurityStamp) return true;
        var stamp = principal.FindFirstValue(_identity.ClaimsIdentity.SecurityStampClaimType);
        return stamp == await users.GetSecurityStampAsync(user);
    }

    private async Task RecheckAsync(string userId)
    {
        try
        {
            var state = await GetAuthenticationStateAsync();
            if (state.User.FindFirstValue(ClaimTypes.NameIdentifier) != userId) return;
            if (await ValidateAuthenticationStateAsync(state, CancellationToken.None)) return;
            SetAuthenticationState(Task.FromResult(new AuthenticationState(new ClaimsPrincipal(new ClaimsIdentity()))));
        }
        catch (InvalidOperationException)
        {
            // A request scope that never had an authentication state (it has nothing to end).
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The change that asked for the recheck is already committed and must not be reported as failed;
            // the periodic revalidation ends this circuit's sign-in at its next turn.
            _logger.LogWarning(e, "An open page of user {UserId} could not check its sign-in at once", userId);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _registration.Dispose();
        base.Dispose(disposing);
    }
}
