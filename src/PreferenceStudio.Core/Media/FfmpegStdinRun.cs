using System.Diagnostics;

namespace PreferenceStudio.Core.Media;

/// <summary>
/// Runs ffmpeg with bytes from memory on its stdin and nothing else in the way: the reference the clip benchmark
/// measures FFMpegCore and the frame drawing against.
/// </summary>
public static class FfmpegStdinRun
{
    /// <returns>ffmpeg's exit code and what it wrote to stderr.</returns>
    public static async Task<(int ExitCode, string Stderr)> RunAsync(string ffmpegPath, string arguments, ReadOnlyMemory<byte> stdin,
        CancellationToken cancellationToken = default)
    {
        var info = new ProcessStartInfo(ffmpegPath, arguments)
        {
            RedirectStandardInput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {ffmpegPath}.");
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.StandardInput.BaseStream.WriteAsync(stdin, cancellationToken).ConfigureAwait(false);
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // ffmpeg quit before reading everything; its exit code and stderr say why.
        }
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        return (process.ExitCode, await stderr.ConfigureAwait(false));
    }
}
