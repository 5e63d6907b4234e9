using System.Diagnostics;
using Microsoft.Playwright;

namespace PreferenceStudio.IntegrationTests.Web;

/// <summary>
/// Debian's Chromium for browser tests (Playwright never downloads a browser here). Installed through apt-get when
/// missing and the tests run as root; otherwise the failure says what to install.
/// </summary>
public static class Chromium
{
    private static readonly string[] Candidates = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];
    private static readonly Lazy<string> Path = new(Locate);

    public static string ExecutablePath => Path.Value;

    /// <summary>Flags that keep headless Chromium off the (closed) network and out of the sandbox it cannot have as root.</summary>
    public static readonly string[] Args =
        ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required"];

    /// <summary>Headless Debian Chromium under Playwright, with <see cref="Args"/>.</summary>
    public static Task<IBrowser> LaunchAsync(IPlaywright playwright) =>
        playwright.Chromium.LaunchAsync(new() { ExecutablePath = ExecutablePath, Headless = true, Args = Args });

    private static string Locate()
    {
        var found = Candidates.FirstOrDefault(File.Exists);
        if (found is not null) return found;
        if (Environment.UserName == "root" && File.Exists("/usr/bin/apt-get"))
        {
            Run("apt-get", "-o DPkg::Lock::Timeout=600 install -y -q chromium");
            found = Candidates.FirstOrDefault(File.Exists);
            if (found is null)
            {
                Run("apt-get", "update -q");
                Run("apt-get", "-o DPkg::Lock::Timeout=600 install -y -q chromium");
                found = Candidates.FirstOrDefault(File.Exists);
            }
        }
        return found ?? throw new InvalidOperationException("Browser tests need Chromium: run `sudo apt-get install -y chromium`.");
    }

    private static void Run(string file, string arguments)
    {
        var start = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        using var process = Process.Start(start)!;
        process.StandardOutput.ReadToEnd();
        process.StandardError.ReadToEnd();
        process.WaitForExit();
    }
}
