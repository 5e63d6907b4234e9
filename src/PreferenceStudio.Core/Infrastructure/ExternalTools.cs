using System.Diagnostics;

namespace PreferenceStudio.Core.Infrastructure;

/// <summary>
/// Locates the external programs the studio runs (ffmpeg, ffprobe), in a configured folder or on PATH,
/// and installs ffmpeg with apt when that is possible and allowed.
/// </summary>
public sealed class ExternalTools
{
    /// <summary>The command a person should run when ffmpeg is missing.</summary>
    public const string InstallHint = "sudo apt-get install ffmpeg";

    // Several test hosts start at once; one install at a time, and apt waits for another process's dpkg lock.
    private static readonly Lock InstallLock = new();
    private const string AptInstall = "-o DPkg::Lock::Timeout=600 install -y ";

    private static readonly TimeSpan AptTimeout = TimeSpan.FromMinutes(10);

    /// <param name="binaryFolder">Folder holding ffmpeg and ffprobe; null or empty searches PATH.</param>
    public ExternalTools(string? binaryFolder = null)
    {
        BinaryFolder = string.IsNullOrWhiteSpace(binaryFolder) ? null : Path.GetFullPath(binaryFolder);
    }

    /// <summary>Tools found on PATH.</summary>
    public static ExternalTools Default { get; } = new();

    public string? BinaryFolder { get; }

    /// <summary>Full path of ffmpeg, or null when it is not found.</summary>
    public string? FindFfmpeg() => Find("ffmpeg");

    /// <summary>Full path of ffprobe, or null when it is not found.</summary>
    public string? FindFfprobe() => Find("ffprobe");

    /// <summary>
    /// Makes sure ffmpeg and ffprobe are present and returns the folder that holds them. When they are missing,
    /// no folder is configured, the process runs as root and apt-get exists, runs <c>apt-get install -y ffmpeg</c>
    /// (after <c>apt-get update</c> if the first attempt fails).
    /// </summary>
    /// <exception cref="InvalidOperationException">ffmpeg is missing and could not be installed; the message says what to install.</exception>
    public string EnsureFfmpeg(bool allowInstall = true)
    {
        lock (InstallLock) return EnsureFfmpegLocked(allowInstall);
    }

    private string EnsureFfmpegLocked(bool allowInstall)
    {
        if (FindFfmpeg() is { } ffmpeg && FindFfprobe() is not null) return Path.GetDirectoryName(ffmpeg)!;

        string where = BinaryFolder is null ? "on PATH" : $"in '{BinaryFolder}'";
        string? installLog = null;
        if (allowInstall && BinaryFolder is null && Environment.IsPrivilegedProcess && Find("apt-get") is { } apt)
        {
            var (ok, log) = RunApt(apt, AptInstall + "ffmpeg");
            if (!ok)
            {
                var (_, updateLog) = RunApt(apt, "update");
                (ok, var retryLog) = RunApt(apt, AptInstall + "ffmpeg");
                log = updateLog + retryLog;
            }
            if (FindFfmpeg() is { } installed && FindFfprobe() is not null) return Path.GetDirectoryName(installed)!;
            installLog = log;
        }

        throw new InvalidOperationException(
            $"ffmpeg and ffprobe were not found {where}; clips cannot be encoded without them. Install them with `{InstallHint}` "
            + "(Debian/Ubuntu; the package provides both programs), or point the media settings at a folder that holds them."
            + (installLog is null ? "" : $" An automatic apt-get install was tried and failed:{Environment.NewLine}{Tail(installLog, 2000)}"));
    }

    private string? Find(string program)
    {
        if (BinaryFolder is not null && program != "apt-get")
        {
            var candidate = Path.Combine(BinaryFolder, program);
            return IsExecutable(candidate) ? candidate : null;
        }
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, program);
            if (IsExecutable(candidate)) return candidate;
            if (OperatingSystem.IsWindows() && IsExecutable(candidate + ".exe")) return candidate + ".exe";
        }
        return null;
    }

    private static bool IsExecutable(string path)
    {
        if (!File.Exists(path)) return false;
        if (OperatingSystem.IsWindows()) return true;
        return (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
    }

    private static (bool Ok, string Log) RunApt(string apt, string arguments)
    {
        var info = new ProcessStartInfo(apt, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {apt}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(AptTimeout))
        {
            process.Kill(entireProcessTree: true);
            return (false, $"apt-get {arguments} did not finish within {AptTimeout.TotalMinutes} minutes.");
        }
        return (process.ExitCode == 0, $"$ apt-get {arguments} (exit {process.ExitCode}){Environment.NewLine}{Tail(stdout.Result, 1000)}{stderr.Result}");
    }

    private static string Tail(string text, int chars) => text.Length <= chars ? text : "..." + text[^chars..];
}
