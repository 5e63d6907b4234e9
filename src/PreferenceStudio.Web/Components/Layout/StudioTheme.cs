using MudBlazor;

namespace PreferenceStudio.Web.Components.Layout;

/// <summary>
/// MudBlazor's palette with every action colour dark enough for white text and for text on white at WCAG AA (4.5:1):
/// the stock green (#00c853) and orange (#ff9800) give about 2.2:1, which raters on a phone in daylight cannot read.
/// </summary>
public static class StudioTheme
{
    public static readonly MudTheme Theme = new()
    {
        PaletteLight = new PaletteLight
        {
            Primary = "#4a3bc9",      // 7.6:1 against white
            Secondary = "#ad1457",    // 7.0:1
            Tertiary = "#00695c",     // 6.6:1
            Info = "#1565c0",         // 5.7:1
            Success = "#1b7d3a",      // 5.2:1
            Warning = "#a15c00",      // 5.2:1
            Error = "#c62828",        // 5.6:1
            Dark = "#37474f",         // 9.6:1
            AppbarBackground = "#4a3bc9",
        },
    };
}
