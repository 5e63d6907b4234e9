using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using PreferenceStudio.Core.Infrastructure;

namespace PreferenceStudio.Core.Media;

/// <summary>What ffprobe reports about a file's first video stream.</summary>
/// <param name="Frames">Frames actually decoded (ffprobe -count_frames), not the container's claim.</param>
public sealed record VideoProbe(string Codec, string PixelFormat, int Width, int Height, int Frames, TimeSpan Duration);

/// <summary>Reads a video's codec, size, frame count and duration with ffprobe.</summary>
public static class Ffprobe
{
    /// <exception cref="InvalidOperationException">ffprobe is missing, fails, or the file has no video stream.</exception>
    public static VideoProbe Probe(string path, ExternalTools? tools = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException("No such video file.", path);
        tools ??= ExternalTools.Default;
        string ffprobe = tools.FindFfprobe() ?? Path.Combine(tools.EnsureFfmpeg(), "ffprobe");

        var info = new ProcessStartInfo(ffprobe)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "-v", "error", "-select_streams", "v:0", "-count_frames",
                     "-show_entries", "stream=codec_name,pix_fmt,width,height,nb_read_frames,duration", "-of", "json", path })
            info.ArgumentList.Add(arg);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {ffprobe}.");
        var stderr = process.StandardError.ReadToEndAsync();
        string json = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"ffprobe failed on '{path}' (exit {process.ExitCode}): {stderr.Result.Trim()}");

        using var doc = JsonDocument.Parse(json);
        var streams = doc.RootElement.GetProperty("streams");
        if (streams.GetArrayLength() == 0) throw new InvalidOperationException($"'{path}' has no video stream.");
        var s = streams[0];
        return new VideoProbe(
            s.GetProperty("codec_name").GetString() ?? "",
            s.TryGetProperty("pix_fmt", out var pf) ? pf.GetString() ?? "" : "",
            s.GetProperty("width").GetInt32(),
            s.GetProperty("height").GetInt32(),
            s.TryGetProperty("nb_read_frames", out var n) ? int.Parse(n.GetString()!, CultureInfo.InvariantCulture) : 0,
            s.TryGetProperty("duration", out var d) ? TimeSpan.FromSeconds(double.Parse(d.GetString()!, CultureInfo.InvariantCulture)) : TimeSpan.Zero);
    }
}
