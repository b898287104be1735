using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;

namespace Portal.Web.Features.Account;

/// <summary>Cookie sign-in and sign-out. These are plain form posts because a circuit cannot set a cookie.</summary>
public static class AccountEndpoints
{
    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/account/login", SignIn).AllowAnonymous();
        app.MapPost("/account/logout", SignOut);
        return app;
    }

    private static async Task<IResult> SignIn(
        [FromForm] string username, [FromForm] string password, [FromForm] string? returnUrl,
        SignInManager<PortalUser> signInManager)
    {
        var safeReturn = IsLocal(returnUrl) ? returnUrl! : "/";
        var user = await signInManager.UserManager.FindByNameAsync(username ?? "");
        if (user is { IsActive: false })
            return Results.Redirect($"/account/login?error=inactive&returnUrl={Uri.EscapeDataString(safeReturn)}");

        var result = await signInManager.PasswordSignInAsync(username ?? "", password ?? "", isPersistent: true, lockoutOnFailure: true);
        if (result.Succeeded) return Results.LocalRedirect(safeReturn);
        var error = result.IsLockedOut ? "locked" : "invalid";
        return Results.Redirect($"/account/login?error={error}&returnUrl={Uri.EscapeDataString(safeReturn)}");
    }

    private static async Task<IResult> SignOut(SignInManager<PortalUser> signInManager)
    {
        await signInManager.SignOutAsync();
        return Results.LocalRedirect("/account/login");
    }

    private static bool IsLocal(string? url) =>
        !string.IsNullOrEmpty(url) && url.StartsWith('/') && !url.StartsWith("//") && !url.StartsWith("/\\");
}
