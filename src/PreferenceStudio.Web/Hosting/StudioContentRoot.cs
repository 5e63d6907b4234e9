namespace PreferenceStudio.Web.Hosting;

/// <summary>
/// Finds the folder that holds appsettings.json and wwwroot/: the repository root when running from a clone
/// (dotnet run, tests), else the application folder (a published build or the container image).
/// </summary>
public static class StudioContentRoot
{
    public static string Find()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("STUDIO_CONTENT_ROOT");
        if (!string.IsNullOrWhiteSpace(fromEnvironment)) return Path.GetFullPath(fromEnvironment);
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "PreferenceStudio.sln"))) return dir.FullName;
        }
        return AppContext.BaseDirectory;
    }
}
