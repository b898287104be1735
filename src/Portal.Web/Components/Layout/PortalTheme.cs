using MudBlazor;

namespace Portal.Web.Components.Layout;

public static class PortalTheme
{
    public static readonly MudTheme Theme = new()
    {
        PaletteLight = new PaletteLight
        {
            Primary = "#2f5d8a",
            Secondary = "#c2185b",
            AppbarBackground = "#1f3b57",
            // Darker than MudBlazor's defaults so white text on filled chips and alerts reaches WCAG AA contrast (axe-core).
            Success = "#2e7d32",
            Warning = "#8f4700",
            Error = "#c62828",
            Info = "#0b5f8a",
        },
        PaletteDark = new PaletteDark
        {
            Primary = "#8ab4e0",
            Secondary = "#f48fb1",
            AppbarBackground = "#16283b",
            // Lighter than MudBlazor's dark defaults, so outlined and text buttons in these colours read on the surface.
            Error = "#ff8a96",
            Info = "#64b5ff",
            // The dark theme's colours are light, so filled chips, buttons and alerts carry dark text (WCAG AA, axe-core);
            // white on them stays under 3.5:1.
            PrimaryContrastText = "#111111",
            SecondaryContrastText = "#111111",
            SuccessContrastText = "#111111",
            WarningContrastText = "#111111",
            ErrorContrastText = "#111111",
            InfoContrastText = "#111111",
            // Text alerts write in the "darken" shade, which on a dark page has to be lighter instead.
            InfoDarken = "#7cc0ff",
            ErrorDarken = "#ff9aa5",
            WarningDarken = "#ffc25c",
            SuccessDarken = "#4fdcad",
            // Labels and captions: MudBlazor's 50 % white reaches only 4.25:1 on the dark surface.
            TextSecondary = "rgba(255,255,255,0.70)",
        },
        Typography = new Typography
        {
            Default = new DefaultTypography { FontFamily = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"] },
        },
    };
}
