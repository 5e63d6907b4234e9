using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using FFMpegCore;
using FFMpegCore.Enums;
using FFMpegCore.Pipes;
using PreferenceStudio.Core.Infrastructure;
using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Rendering;
using SkiaSharp;

namespace PreferenceStudio.Core.Media;

/// <summary>
/// Renders a segment's frames on the fly and pipes them into ffmpeg as H.264 MP4 (libx264, yuv420p, +faststart),
/// with a PNG poster beside it. Clips are content-addressed: the file name is the SHA-256 of the segment, the
/// renderer's settings and the encoder settings, so an identical segment is encoded once and then reused.
/// </summary>
/// <remarks>
/// Files are written under a temporary name in the media folder and renamed into place (poster first, MP4 last),
/// so a crash never leaves a partial file under a final name, and an existing MP4 means a finished clip.
/// Two concurrent encodes of the same segment both do the work; the renames make the outcome the same.
/// </remarks>
public sealed class ClipEncoder
{
    // Part of every content key: change it when the encode settings below change.
    private const string EncoderSettings = "h264/libx264/yuv420p/crf20/preset-fast/tune-animation/faststart";
    private const string PartialMarker = ".partial";
    private static readonly TimeSpan StalePartialAge = TimeSpan.FromHours(1);

    private readonly ExternalTools _tools;
    private int _ffmpegRuns;

    /// <param name="mediaFolder">Folder for clips and posters; created when missing.</param>
    /// <param name="tools">Where ffmpeg lives; PATH by default.</param>
    public ClipEncoder(string mediaFolder, ExternalTools? tools = null)
    {
        MediaFolder = Path.GetFullPath(mediaFolder);
        _tools = tools ?? ExternalTools.Default;
        Directory.CreateDirectory(MediaFolder);
        RemoveStalePartials();
    }

    public string MediaFolder { get; }

    /// <summary>How many times this encoder has run ffmpeg (cache hits do not count).</summary>
    public int FfmpegRuns => Volatile.Read(ref _ffmpegRuns);

    /// <summary>Lower-case hex SHA-256 naming the clip of this segment drawn by this renderer.</summary>
    public static string ContentKey(Segment segment, IFrameRenderer renderer)
    {
        var text = new StringBuilder("preferencestudio-clip/1\n")
            .Append(EncoderSettings).Append('\n')
            .Append(renderer.SettingsKey).Append('\n');
        foreach (var state in segment.States)
        {
            foreach (var v in state) text.Append(v.ToString("R", CultureInfo.InvariantCulture)).Append(',');
            text.Append(';');
        }
        text.Append('\n');
        // Entries of one action space-separated: a discrete action [3] gives "3," as when actions were indices.
        foreach (var a in segment.Actions)
            text.AppendJoin(' ', a.Select(v => v.ToString("R", CultureInfo.InvariantCulture))).Append(',');
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    /// <summary>Full path the MP4 of a content key has (whether or not it exists yet).</summary>
    public string PathFor(string contentKey) => Path.Combine(MediaFolder, contentKey + ".mp4");

    /// <summary>The finished clip of this segment, if one was encoded before.</summary>
    public bool TryGetExisting(Segment segment, IFrameRenderer renderer, out EncodedClip clip)
    {
        var path = PathFor(ContentKey(segment, renderer));
        if (File.Exists(path) && File.Exists(Path.ChangeExtension(path, ".png")))
        {
            clip = Describe(path, HashFile(path), segment, renderer);
            return true;
        }
        clip = null!;
        return false;
    }

    /// <summary>Encodes the clip, or returns the existing one with the same content.</summary>
    /// <exception cref="ClipEncodingException">ffmpeg failed; the message carries its error output.</exception>
    /// <exception cref="InvalidOperationException">ffmpeg is not installed and could not be installed.</exception>
    public EncodedClip Encode(Segment segment, IFrameRenderer renderer, CancellationToken cancellationToken = default) =>
        EncodeAsync(segment, renderer, cancellationToken).GetAwaiter().GetResult();

    /// <inheritdoc cref="Encode"/>
    public async Task<EncodedClip> EncodeAsync(Segment segment, IFrameRenderer renderer, CancellationToken cancellationToken = default)
    {
        if (renderer.Width % 2 != 0 || renderer.Height % 2 != 0)
            throw new ArgumentException($"H.264 in yuv420p needs an even width and height; the renderer draws {renderer.Width} x {renderer.Height}.", nameof(renderer));
        if (TryGetExisting(segment, renderer, out var existing)) return existing;

        string key = ContentKey(segment, renderer);
        string finalPath = PathFor(key);
        string partial = $"{key}{PartialMarker}-{Guid.NewGuid():N}";
        string tempVideo = Path.Combine(MediaFolder, partial + ".mp4");
        string tempPoster = Path.Combine(MediaFolder, partial + ".png");
        try
        {
            WritePoster(segment, renderer, tempPoster);
            await RunFfmpegAsync(segment, renderer, tempVideo, key, cancellationToken).ConfigureAwait(false);
            string sha = HashFile(tempVideo);
            File.Move(tempPoster, Path.ChangeExtension(finalPath, ".png"), overwrite: true);
            File.Move(tempVideo, finalPath, overwrite: true);
            return Describe(finalPath, sha, segment, renderer);
        }
        finally
        {
            TryDelete(tempVideo);
            TryDelete(tempPoster);
        }
    }

    private async Task RunFfmpegAsync(Segment segment, IFrameRenderer renderer, string output, string key, CancellationToken cancellationToken)
    {
        var ffOptions = new FFOptions { BinaryFolder = _tools.EnsureFfmpeg(), TemporaryFilesFolder = Path.GetTempPath() };
        using var bitmap = new SKBitmap(new SKImageInfo(renderer.Width, renderer.Height, SKColorType.Bgra8888, SKAlphaType.Premul));
        var source = new RawVideoPipeSource(Frames(segment, renderer, bitmap)) { FrameRate = renderer.FrameRate };
        var stderr = new List<string>();

        Interlocked.Increment(ref _ffmpegRuns);
        FFMpegResult result;
        try
        {
            result = await FFMpegArguments
                .FromPipeInput(source)
                .OutputToFile(output, overwrite: true, options => options
                    .WithVideoCodec(VideoCodec.LibX264)
                    .WithConstantRateFactor(20)
                    .WithSpeedPreset(EncoderPreset.Fast)
                    .WithTune(EncoderTune.Animation)
                    .WithPixelFormat("yuv420p")
                    .WithFastStart())
                .NotifyOnStandardError(line => { lock (stderr) stderr.Add(line); })
                .ProcessAsynchronously(false, ffOptions, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new ClipEncodingException($"ffmpeg failed to encode clip {key}: {e.Message}{StderrTail(stderr)}", null, e);
        }
        cancellationToken.ThrowIfCancellationRequested();
        if (!result.Success)
        {
            var lines = result.StandardError.Count > 0 ? result.StandardError : stderr;
            throw new ClipEncodingException($"ffmpeg exited with code {result.ExitCode} while encoding clip {key}.{StderrTail(lines)}", result.ExitCode);
        }
        if (!File.Exists(output) || new FileInfo(output).Length == 0)
            throw new ClipEncodingException($"ffmpeg reported success but wrote no video for clip {key}.{StderrTail(stderr)}", result.ExitCode);
    }

    private static IEnumerable<IVideoFrame> Frames(Segment segment, IFrameRenderer renderer, SKBitmap bitmap)
    {
        int count = renderer.FrameCount(segment);
        for (int i = 0; i < count; i++)
        {
            int index = i;
            yield return new BgraVideoFrame(bitmap, b =>
            {
                using var canvas = new SKCanvas(b);
                renderer.DrawFrame(segment, index, canvas);
                canvas.Flush();
            });
        }
    }

    private static void WritePoster(Segment segment, IFrameRenderer renderer, string path)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(renderer.Width, renderer.Height, SKColorType.Bgra8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(bitmap))
        {
            renderer.DrawFrame(segment, renderer.FrameCount(segment) - 1, canvas);
            canvas.Flush();
        }
        using var image = SKImage.FromBitmap(bitmap);
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        using var file = File.Create(path);
        png.SaveTo(file);
    }

    private static EncodedClip Describe(string path, string sha, Segment segment, IFrameRenderer renderer)
    {
        int frames = renderer.FrameCount(segment);
        return new EncodedClip(path, sha, frames, renderer.Width, renderer.Height, TimeSpan.FromSeconds(frames / renderer.FrameRate));
    }

    private static string HashFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private static string StderrTail(IReadOnlyList<string> lines)
    {
        List<string> copy;
        lock (lines) copy = lines.Where(l => !string.IsNullOrWhiteSpace(l)).TakeLast(12).ToList();
        return copy.Count == 0 ? "" : $" ffmpeg said:{Environment.NewLine}{string.Join(Environment.NewLine, copy)}";
    }

    private void RemoveStalePartials()
    {
        // Leftovers of a crashed encode; never under a final name, so only age decides.
        foreach (var file in Directory.EnumerateFiles(MediaFolder, $"*{PartialMarker}-*"))
            if (DateTime.UtcNow - File.GetLastWriteTimeUtc(file) > StalePartialAge) TryDelete(file);
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
