using System.Globalization;
using System.Text;

namespace PreferenceStudio.Core.Media;

/// <summary>
/// The ffmpeg command line that turns a stream of raw BGRA frames holding one or more clips back to back into one
/// H.264 MP4 per clip. The encoder and <c>studio bench render</c>'s floor both build their commands here, so the floor
/// times exactly what the encoder asks ffmpeg to do.
/// </summary>
/// <remarks>
/// Why a batch per process: starting ffmpeg (Debian's build links about 200 shared libraries) costs about as much
/// CPU as encoding a 50-frame 256 x 256 clip, so the encoder sends several clips through one process and ffmpeg's
/// segment muxer cuts them apart at forced IDR frames. Why one x264 thread per process: several processes keep all cores
/// busy with no frame-thread hand-off, and single-threaded x264 output does not depend on the core count.
/// </remarks>
public static class ClipEncodingArguments
{
    /// <summary>
    /// x264 speed preset. superfast over ultrafast: deblocking, CABAC and B-frames make clips about a third smaller
    /// (pendulum 78 KB vs 116 KB per 50-frame clip, delivery 26 KB vs 38 KB) for about 30% more ffmpeg CPU; veryfast
    /// halves the size again but leaves too little headroom over 20 clips/s on two cores (issue 4 report).
    /// </summary>
    public const string Preset = "superfast";

    /// <summary>Constant rate factor: 20 keeps the flat-coloured drawings free of visible blocking.</summary>
    public const int Crf = 20;

    /// <summary>Part of every clip's content key: follows <see cref="Preset"/> and <see cref="Crf"/>; bump the version when other arguments change.</summary>
    public static string SettingsKey { get; } =
        string.Create(CultureInfo.InvariantCulture, $"h264/libx264/yuv420p/crf{Crf}/preset-{Preset}/threads1/faststart/segmented/v1");

    /// <summary>The pixel layout of the frames fed to ffmpeg (SkiaSharp's native BGRA, premultiplied, opaque).</summary>
    public const string InputPixelFormat = "bgra";

    /// <summary>
    /// Input options for raw frames read from <paramref name="source"/>, in the order FFMpegCore's
    /// <c>RawVideoPipeSource</c> writes them, so a stdin-fed command matches the encoder's.
    /// </summary>
    public static string Input(int width, int height, double frameRate, string source) =>
        string.Create(CultureInfo.InvariantCulture, $"-f rawvideo -r {frameRate} -pix_fmt {InputPixelFormat} -s {width}x{height} -i \"{source}\"");

    /// <summary>
    /// Output options (everything between the input and the output pattern) for clips of the given frame counts sent
    /// back to back. Clip <c>i</c> lands in <paramref name="outputPattern"/> with <c>%d</c> replaced by <c>i</c>.
    /// </summary>
    public static string Output(IReadOnlyList<int> frameCounts)
    {
        if (frameCounts.Count == 0) throw new ArgumentException("A batch needs at least one clip.", nameof(frameCounts));
        if (frameCounts.Any(c => c < 1)) throw new ArgumentException("Every clip needs at least one frame.", nameof(frameCounts));
        var cuts = new List<long>();
        long at = 0;
        for (int i = 0; i < frameCounts.Count - 1; i++) cuts.Add(at += frameCounts[i]);

        var args = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"-loglevel error -nostats -an -c:v libx264 -preset {Preset} -crf {Crf} -threads 1 -pix_fmt yuv420p");
        if (cuts.Count > 0)
        {
            // Each clip must start on an IDR frame: the segment muxer only cuts at key frames, and a clip has to decode alone.
            args.Append(" -forced-idr 1 -force_key_frames expr:").AppendJoin('+', cuts.Select(c => $"eq(n,{c})"));
        }
        args.Append(" -f segment -segment_format mp4 -segment_format_options movflags=+faststart -reset_timestamps 1");
        if (cuts.Count > 0) args.Append(" -segment_frames ").AppendJoin(',', cuts);
        return args.ToString();
    }

    /// <summary>The whole command line after the program name, as the bench floor runs it with frames on stdin.</summary>
    public static string StdinCommand(int width, int height, double frameRate, IReadOnlyList<int> frameCounts, string outputPattern) =>
        $"{Input(width, height, frameRate, "pipe:0")} {Output(frameCounts)} \"{outputPattern}\" -y";

    /// <summary>The output file of clip <paramref name="index"/> of a batch written to <paramref name="outputPattern"/>.</summary>
    public static string OutputPath(string outputPattern, int index) =>
        outputPattern.Replace("%d", index.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
}
