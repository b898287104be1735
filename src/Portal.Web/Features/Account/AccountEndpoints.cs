using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Account;

/// <summary>Cookie sign-in and sign-out. These are plain form posts because a circuit cannot set a cookie.</summary>
public static class AccountEndpoints
{
    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/account/login", SignIn).AllowAnonymous();
        app.MapPost("/account/logout", SignOut).RequireAntiforgeryToken();
        app.MapPost("/account/theme", ChooseTheme).RequireAntiforgeryToken();
        return app;
    }

    /// <summary>Keeps the user's light, dark or system theme in a cookie of its own, read when a page is first served.</summary>
    private static IResult ChooseTheme([FromForm] string? theme, [FromForm] string? returnUrl, HttpContext http)
    {
        var choice = Components.ThemeChoice.FromCookie(theme);
        if (choice is null) http.Response.Cookies.Delete(Components.ThemeChoice.CookieName);
        else http.Response.Cookies.Append(Components.ThemeChoice.CookieName, choice, new CookieOptions
        {
            HttpOnly = true, IsEssential = true, SameSite = SameSiteMode.Lax, Secure = http.Request.IsHttps, MaxAge = TimeSpan.FromDays(365),
        });
        return Results.Redirect(IsLocal(returnUrl) ? returnUrl! : "/");
    }

    private static async Task<IResult> SignIn(
        [FromForm] string username, [FromForm] string password, [FromForm] string? returnUrl, [FromForm] string? rememberMe,
        SignInManager<PortalUser> signInManager)
    {
        var safeReturn = IsLocal(returnUrl) ? returnUrl! : "/";
        IResult Refuse(string error) => Results.Redirect($"/account/login?error={error}&returnUrl={Uri.EscapeDataString(safeReturn)}");

        var users = signInManager.UserManager;
        var user = await users.FindByNameAsync(username ?? "");
        if (user is { IsActive: false })
        {
            // Only the right password learns that the account is deactivated; a wrong one reads like an unknown user.
            return await users.CheckPasswordAsync(user, password ?? "") ? Refuse("inactive") : Refuse("invalid");
        }

        // A session cookie unless the user asked to be remembered on this device.
        var persistent = rememberMe is "true" or "on";
        var result = await signInManager.PasswordSignInAsync(username ?? "", password ?? "", persistent, lockoutOnFailure: true);
        if (result.Succeeded) return Results.LocalRedirect(safeReturn);
        return Refuse(result.IsLockedOut ? "locked" : "invalid");
    }

    private static async Task<IResult> SignOut(HttpContext http, SignInManager<PortalUser> signInManager, UserSessions sessions)
    {
        var users = signInManager.UserManager;
        var user = await users.GetUserAsync(http.User);
        await signInManager.SignOutAsync();
        if (user is not null)
        {
            // A new security stamp makes every copy of the old cookie worthless, and the user's open pages close.
            await users.UpdateSecurityStampAsync(user);
            await sessions.EndAsync(user.Id);
        }
        return Results.LocalRedirect("/account/login");
    }

    private static bool IsLocal(string? url) =>
        !string.IsNullOrEmpty(url) && url.StartsWith('/') && !url.StartsWith("//") && !url.StartsWith("/\\");
}
