using System.Security.Cryptography;
using PreferenceStudio.Core.Infrastructure;
using PreferenceStudio.Core.Media;
using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Delivery;
using PreferenceStudio.Environments.Rendering;
using SkiaSharp;

namespace PreferenceStudio.Tests.Media;

public sealed class ClipEncoderTests : IDisposable
{
    private static readonly Segment ThreeMoves = Segment.Discrete([[2, 3], [2, 4], [2, 4], [2, 5]], [3, 1, 3]);

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "ps-clips-" + Guid.NewGuid().ToString("N"));
    private readonly IFrameRenderer _renderer = FrameRenderers.For(DeliveryGridworld.Standard);

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public void A_delivery_clip_is_h264_yuv420p_at_the_rendered_size_and_frame_count()
    {
        var clip = new ClipEncoder(_folder).Encode(ThreeMoves, _renderer);

        var probe = Ffprobe.Probe(clip.Path);
        Assert.Equal("h264", probe.Codec);
        Assert.Equal("yuv420p", probe.PixelFormat);
        Assert.Equal((256, 256), (probe.Width, probe.Height));
        Assert.Equal(_renderer.FrameCount(ThreeMoves), probe.Frames);
        Assert.Equal(28, clip.Frames);
        Assert.Equal(28 / 15.0, clip.Duration.TotalSeconds, 6);
        Assert.InRange(probe.Duration.TotalSeconds, 1.8, 1.95);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(clip.Path))), clip.Sha256);
        Assert.Contains(ClipEncoder.ContentKey(ThreeMoves, _renderer), Path.GetFileName(clip.Path));
    }

    [Fact]
    public void The_mp4_index_comes_first_so_browsers_can_start_playing_early()
    {
        var clip = new ClipEncoder(_folder).Encode(ThreeMoves, _renderer);
        var boxes = TopLevelBoxes(File.ReadAllBytes(clip.Path));
        Assert.True(boxes.IndexOf("moov") >= 0 && boxes.IndexOf("moov") < boxes.IndexOf("mdat"), string.Join(",", boxes));
    }

    [Fact]
    public void The_poster_is_a_png_of_the_clips_last_frame_named_by_the_content_key()
    {
        var clip = new ClipEncoder(_folder).Encode(ThreeMoves, _renderer);

        Assert.Equal(ClipEncoder.ContentKey(ThreeMoves, _renderer) + ".png", Path.GetFileName(clip.PosterPath));
        using var poster = SKBitmap.Decode(clip.PosterPath);
        Assert.NotNull(poster);
        Assert.Equal((256, 256), (poster.Width, poster.Height));
        using var last = new SKBitmap(new SKImageInfo(256, 256, poster.ColorType, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(last)) _renderer.DrawFrame(ThreeMoves, _renderer.FrameCount(ThreeMoves) - 1, canvas);
        Assert.True(last.GetPixelSpan().SequenceEqual(poster.GetPixelSpan()), "the poster is not the last frame");
    }

    [Fact]
    public void An_identical_segment_is_not_encoded_again()
    {
        var encoder = new ClipEncoder(_folder);
        var first = encoder.Encode(ThreeMoves, _renderer);
        var written = File.GetLastWriteTimeUtc(first.Path);
        var copy = new Segment(ThreeMoves.States.Select(s => s.ToArray()).ToArray(), ThreeMoves.Actions.Select(a => a.ToArray()).ToArray());

        var again = encoder.Encode(copy, _renderer);
        var fromNewEncoder = new ClipEncoder(_folder).Encode(copy, _renderer);
        var other = encoder.Encode(Segment.Discrete([[2, 3], [2, 4]], [3]), _renderer);

        Assert.Equal(first, again);
        Assert.Equal(first, fromNewEncoder);
        Assert.Equal(written, File.GetLastWriteTimeUtc(first.Path));
        Assert.Equal(2, encoder.FfmpegRuns);
        Assert.NotEqual(first.Path, other.Path);
        Assert.Empty(Directory.EnumerateFiles(_folder, "*partial*"));
    }

    [Fact]
    public void A_failing_ffmpeg_gives_its_message_and_leaves_no_file_under_the_final_name()
    {
        if (OperatingSystem.IsWindows()) return; // the test double is a shell script
        var fakeBin = Path.Combine(_folder, "fake-bin");
        Directory.CreateDirectory(fakeBin);
        foreach (var tool in new[] { "ffmpeg", "ffprobe" })
        {
            var script = Path.Combine(fakeBin, tool);
            // Answers FFMpegCore's version check, then fails the encode the way a broken build would.
            File.WriteAllText(script, "#!/bin/sh\n[ \"$1\" = \"-version\" ] && { echo 'ffmpeg version 5.1-test'; exit 0; }\n"
                + "echo 'Unknown encoder libx264 (test double)' >&2\nexit 1\n");
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        var encoder = new ClipEncoder(Path.Combine(_folder, "media"), new ExternalTools(fakeBin));

        var e = Assert.Throws<ClipEncodingException>(() => encoder.Encode(ThreeMoves, _renderer));

        Assert.True(e.Message.Contains("Unknown encoder libx264 (test double)"), e.ToString());
        Assert.Equal(1, e.ExitCode);
        Assert.Empty(Directory.EnumerateFiles(encoder.MediaFolder));
    }

    [Fact]
    public void Missing_ffmpeg_says_what_to_install()
    {
        var empty = Directory.CreateDirectory(Path.Combine(_folder, "empty-bin")).FullName;
        var e = Assert.Throws<InvalidOperationException>(() => new ExternalTools(empty).EnsureFfmpeg(allowInstall: false));
        Assert.Contains("sudo apt-get install ffmpeg", e.Message);
        Assert.Null(new ExternalTools(empty).FindFfmpeg());
    }

    [Fact]
    public void Odd_sizes_are_rejected_before_ffmpeg_runs()
    {
        var encoder = new ClipEncoder(_folder);
        var odd = FrameRenderers.For(DeliveryGridworld.Standard, 255, 256);
        Assert.Throws<ArgumentException>(() => encoder.Encode(ThreeMoves, odd));
        Assert.Equal(0, encoder.FfmpegRuns);
    }

    private static List<string> TopLevelBoxes(byte[] mp4)
    {
        var names = new List<string>();
        long at = 0;
        while (at + 8 <= mp4.Length)
        {
            long size = (uint)(mp4[at] << 24 | mp4[at + 1] << 16 | mp4[at + 2] << 8 | mp4[at + 3]);
            names.Add(System.Text.Encoding.ASCII.GetString(mp4, (int)at + 4, 4));
            if (size == 1) size = (long)BitConverter.ToUInt64(mp4.AsSpan((int)at + 8, 8).ToArray().Reverse().ToArray());
            if (size < 8) break;
            at += size;
        }
        return names;
    }
}
