using Microsoft.Playwright;
using PreferenceStudio.Core.Infrastructure;

namespace PreferenceStudio.IntegrationTests.Web;

/// <summary>Browser tests leave screenshots in TestResults/screenshots (ignored by git) for a person to look at.</summary>
public static class Screenshots
{
    public static string PathFor(string name)
    {
        var dir = Path.Combine(StudioPaths.FindRepositoryRoot() ?? Path.GetTempPath(), "TestResults", "screenshots");
        Directory.CreateDirectory(dir);
        return Path.Combine(dir, name);
    }

    /// <summary>Runs a browser scenario; when it fails, keeps a screenshot and the page's HTML beside the others.</summary>
    public static async Task KeepOnFailureAsync(IPage page, string name, Func<Task> scenario)
    {
        try
        {
            await scenario();
        }
        catch
        {
            try
            {
                await page.ScreenshotAsync(new() { Path = PathFor($"{name}-failure.png"), FullPage = true });
                await File.WriteAllTextAsync(PathFor($"{name}-failure.html"), await page.ContentAsync());
            }
            catch (PlaywrightException) { }
            throw;
        }
    }
}
