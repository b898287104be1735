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
        },
        Typography = new Typography
        {
            Default = new DefaultTypography { FontFamily = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"] },
        },
    };
}
