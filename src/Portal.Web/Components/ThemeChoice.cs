namespace Portal.Web.Components;

/// <summary>
/// The user's theme: "light", "dark", or null to follow the system. Stored in a cookie per browser, posted to
/// /account/theme, so the first served page already has the right colours.
/// </summary>
public sealed record ThemeChoice(string? Value)
{
    public const string CookieName = "portal-theme";

    public bool FollowsSystem => Value is null;
    public bool IsDark => Value == "dark";

    /// <summary>Only the two known values count; anything else means "follow the system".</summary>
    public static string? FromCookie(string? value) => value is "light" or "dark" ? value : null;

    /// <summary>The choice the toggle offers next: system, then light, then dark.</summary>
    public string Next => Value switch { null => "light", "light" => "dark", _ => "system" };

    public string Describe => Value switch { null => "Theme: following the system", "light" => "Theme: light", _ => "Theme: dark" };
}
