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
}
