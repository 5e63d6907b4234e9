using System.Diagnostics;
using PreferenceStudio.Core.Infrastructure;
using PreferenceStudio.Core.Media;
using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Delivery;
using PreferenceStudio.Environments.Rendering;
using SkiaSharp;

namespace PreferenceStudio.Tests.Media;

public sealed class EncodeManyTests : IDisposable
{
    // Different lengths, so a batch's cut points are not evenly spaced.
    private static readonly Segment[] Walks =
    [
        Segment.Discrete([[2, 3], [2, 4], [2, 4], [2, 5]], [3, 1, 3]),
        Segment.Discrete([[2, 3], [1, 3]], [0]),
        Segment.Discrete([[0, 0], [0, 1], [1, 1], [1, 2], [0, 2]], [3, 1, 3, 0]),
        Segment.Discrete([[3, 3], [3, 2]], [2]),
    ];

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "ps-many-" + Guid.NewGuid().ToString("N"));
    private readonly DeliveryFrameRenderer _renderer = new(DeliveryGridworld.Standard, new DeliveryRenderOptions { Width = 64, Height = 64 });

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public void Clips_batched_into_one_ffmpeg_process_come_apart_whole_and_in_order()
    {
        var encoder = new ClipEncoder(_folder) { ClipsPerProcess = 8 };

        var results = encoder.EncodeMany(Walks, _renderer, maxParallel: 1);

        Assert.Equal(1, encoder.FfmpegRuns);
        Assert.All(results, r => Assert.True(r.Succeeded, r.Error));
        Assert.Equal(Enumerable.Range(0, Walks.Length), results.Select(r => r.Index));
        var probe = Ffprobe.Probe(results[1].Clip!.Path);
        Assert.Equal(("h264", "yuv420p", _renderer.FrameCount(Walks[1])), (probe.Codec, probe.PixelFormat, probe.Frames));
        for (int i = 0; i < Walks.Length; i++)
            Assert.Equal(ClipEncoder.ContentKey(Walks[i], _renderer), results[i].Clip!.ContentKey);
        // Each file decodes to its own segment's frame count (checked while decoding), and its last frame looks like
        // its own segment's last frame more than like any other's.
        var drawn = Walks.Select(w => Draw(w, _renderer.FrameCount(w) - 1)).ToArray();
        for (int i = 0; i < Walks.Length; i++)
        {
            var decoded = LastDecodedFrame(results[i].Clip!.Path, _renderer.FrameCount(Walks[i]));
            double own = MeanAbsoluteDifference(decoded, drawn[i]);
            for (int j = 0; j < Walks.Length; j++)
                if (j != i) Assert.True(own < MeanAbsoluteDifference(decoded, drawn[j]), $"clip {i} looks like segment {j}");
        }
    }

    [Fact]
    public void A_renderer_that_throws_fails_only_its_own_clip()
    {
        var broken = new ThrowingRenderer(_renderer, Walks[2], badFrame: 7);
        var encoder = new ClipEncoder(_folder);

        var results = encoder.EncodeMany(Walks, broken, maxParallel: 2);

        Assert.False(results[2].Succeeded);
        Assert.Contains("frame 7", results[2].Error);
        Assert.Contains(ThrowingRenderer.Message, results[2].Error);
        Assert.False(File.Exists(encoder.PathFor(results[2].ContentKey)));
        foreach (int i in new[] { 0, 1, 3 })
        {
            Assert.True(results[i].Succeeded, results[i].Error);
            Assert.Equal(_renderer.FrameCount(Walks[i]), Ffprobe.Probe(results[i].Clip!.Path).Frames);
        }
        Assert.Empty(Directory.EnumerateFiles(_folder, "*partial*"));
    }

    [Fact]
    public void Missing_ffmpeg_fails_every_clip_with_the_install_hint_instead_of_throwing()
    {
        var empty = Directory.CreateDirectory(Path.Combine(_folder, "empty-bin")).FullName;
        var encoder = new ClipEncoder(Path.Combine(_folder, "media"), new ExternalTools(empty));

        var results = encoder.EncodeMany(Walks, _renderer);

        Assert.All(results, r => Assert.False(r.Succeeded));
        Assert.All(results, r => Assert.Contains(ExternalTools.InstallHint, r.Error));
        Assert.Equal(0, encoder.FfmpegRuns);
    }

    [Fact]
    public void A_failing_ffmpeg_batch_is_retried_clip_by_clip_and_each_clip_carries_ffmpegs_message()
    {
        if (OperatingSystem.IsWindows()) return; // the test double is a shell script
        var encoder = new ClipEncoder(Path.Combine(_folder, "media"), new ExternalTools(FakeFailingFfmpeg())) { ClipsPerProcess = 8 };

        var results = encoder.EncodeMany(Walks[..3], _renderer, maxParallel: 1);

        Assert.All(results, r => Assert.Contains("Unknown encoder libx264 (test double)", r.Error));
        Assert.Equal(1 + 3, encoder.FfmpegRuns);
        Assert.Empty(Directory.EnumerateFiles(encoder.MediaFolder));
    }

    [Fact]
    public void Existing_and_repeated_segments_are_not_encoded_again()
    {
        var encoder = new ClipEncoder(_folder);
        var copyOfFirst = new Segment(Walks[0].States.Select(s => s.ToArray()).ToArray(), Walks[0].Actions.Select(a => a.ToArray()).ToArray());

        var first = encoder.EncodeMany([Walks[0], Walks[1], copyOfFirst], _renderer, maxParallel: 1);
        var written = File.GetLastWriteTimeUtc(first[0].Clip!.Path);
        var reported = new System.Collections.Concurrent.ConcurrentBag<ClipEncodeResult>();
        var second = encoder.EncodeMany([Walks[1], Walks[0], Walks[3]], _renderer, maxParallel: 1, onFinished: reported.Add);

        Assert.Equal(first[0].Clip, first[2].Clip);
        Assert.Equal(2, first.Select(r => r.Clip!.Path).Distinct().Count());
        Assert.Equal([true, true, false], second.Select(r => r.Reused));
        Assert.Equal(first[1].Clip, second[0].Clip);
        Assert.Equal(written, File.GetLastWriteTimeUtc(second[1].Clip!.Path));
        Assert.Equal(2, encoder.FfmpegRuns);
        Assert.Equal(second.OrderBy(r => r.Index), reported.OrderBy(r => r.Index));
    }

    [Fact]
    public void The_batch_command_cuts_at_the_clip_boundaries()
    {
        string args = ClipEncodingArguments.Output([28, 10, 34]);
        Assert.Contains("-segment_frames 28,38", args);
        Assert.Contains("-force_key_frames expr:eq(n,28)+eq(n,38)", args);
        Assert.DoesNotContain("segment_frames", ClipEncodingArguments.Output([28]));
    }

    private string FakeFailingFfmpeg()
    {
        var fakeBin = Directory.CreateDirectory(Path.Combine(_folder, "fake-bin")).FullName;
        foreach (var tool in new[] { "ffmpeg", "ffprobe" })
        {
            var script = Path.Combine(fakeBin, tool);
            File.WriteAllText(script, "#!/bin/sh\n[ \"$1\" = \"-version\" ] && { echo 'ffmpeg version 5.1-test'; exit 0; }\n"
                + "echo 'Unknown encoder libx264 (test double)' >&2\nexit 1\n");
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        return fakeBin;
    }

    private byte[] Draw(Segment segment, int frame)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(_renderer.Width, _renderer.Height, SKColorType.Bgra8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(bitmap)) _renderer.DrawFrame(segment, frame, canvas);
        return bitmap.GetPixelSpan().ToArray();
    }

    private byte[] LastDecodedFrame(string path, int frames)
    {
        var info = new ProcessStartInfo("ffmpeg", ["-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "bgra", "-"])
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(info)!;
        using var all = new MemoryStream();
        process.StandardOutput.BaseStream.CopyTo(all);
        process.WaitForExit();
        int frameBytes = _renderer.Width * _renderer.Height * 4;
        Assert.Equal(frames * frameBytes, all.Length);
        return all.ToArray()[^frameBytes..];
    }

    private static double MeanAbsoluteDifference(byte[] a, byte[] b)
    {
        long sum = 0;
        for (int i = 0; i < a.Length; i++) sum += Math.Abs(a[i] - b[i]);
        return sum / (double)a.Length;
    }

    private sealed class ThrowingRenderer(IFrameRenderer inner, Segment bad, int badFrame) : IFrameRenderer
    {
        public const string Message = "test renderer broke on purpose";
        public int Width => inner.Width;
        public int Height => inner.Height;
        public double FrameRate => inner.FrameRate;
        public string SettingsKey => inner.SettingsKey + "/throwing";
        public int FrameCount(Segment segment) => inner.FrameCount(segment);

        public void DrawFrame(Segment segment, int frameIndex, SKCanvas canvas)
        {
            if (frameIndex == badFrame && segment.Equals(bad)) throw new InvalidOperationException(Message);
            inner.DrawFrame(segment, frameIndex, canvas);
        }
    }
}
