using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using FFMpegCore;
using FFMpegCore.Pipes;
using PreferenceStudio.Core.Infrastructure;
using PreferenceStudio.Core.Media;
using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Control;
using PreferenceStudio.Environments.Delivery;
using PreferenceStudio.Environments.Rendering;
using SkiaSharp;

namespace PreferenceStudio.Cli.Commands;

/// <summary>
/// `studio bench render`: clip rendering throughput (draw + encode + poster + content addressing, as the web app does it)
/// against the floor, the same ffmpeg command line fed the same frames from memory on stdin.
/// </summary>
public static class BenchRenderCommand
{
    private const long MaxPredrawnBytes = 3L << 30;

    public static Command Create()
    {
        var clips = CliOptions.With("--clips", 100, "distinct clips to render");
        var parallel = CliOptions.With("--parallel", Environment.ProcessorCount, "ffmpeg processes at once (default: the cores)");
        var frames = CliOptions.With("--frames", 50, "frames per clip (pendulum: steps of the rollout)");
        var size = CliOptions.With("--size", FrameRenderers.DefaultSize, "frame width and height in pixels");
        var renderer = CliOptions.Choice("--renderer", "pendulum", ["pendulum", "delivery"], "what to draw");
        var perProcess = CliOptions.With("--per-process", ClipEncoder.DefaultClipsPerProcess, "clips one ffmpeg process encodes at most");
        var repeat = CliOptions.With("--repeat", 1, "times ours and the floor alternate (medians reported)");
        var seed = CliOptions.With("--seed", 1, "seed of the rollouts");
        var command = new Command("render", """
            clip rendering throughput (draw + encode + poster + content addressing, as the web app does it) against the
            floor: ffmpeg alone with identical arguments, the same batches and parallelism, frames pre-drawn into memory
            and fed on stdin. pendulum: one frame per step of a random-torque rollout; delivery: a random walk on the
            standard board, 6 frames per move plus holds. CPU figures include ffmpeg's (Linux only).
            """)
        {
            clips, parallel, frames, size, renderer, perProcess, repeat, seed,
        };
        return command.WithAction((parse, ct) =>
        {
            var settings = new Settings(parse.GetValue(clips), parse.GetValue(parallel), parse.GetValue(frames), parse.GetValue(size),
                parse.GetValue(perProcess), parse.GetValue(repeat), parse.GetValue(seed), parse.GetRequiredValue(renderer));
            settings.Validate();
            return RunAsync(settings);
        });
    }

    private static async Task<int> RunAsync(Settings s)
    {
        var (renderer, makeSegments) = s.Renderer == "delivery" ? DeliveryBench(s.Frames, s.Size) : PendulumBench(s.Frames, s.Size);
        var segments = makeSegments(s.Clips, s.Seed);
        ExternalTools.Default.EnsureFfmpeg();
        string ffmpeg = ExternalTools.Default.FindFfmpeg()!;
        int perProcess = Math.Clamp((s.Clips + s.Parallel - 1) / s.Parallel, 1, s.PerProcess);
        var batches = Enumerable.Range(0, s.Clips).Chunk(perProcess).ToArray();
        string root = Path.Combine(Path.GetTempPath(), $"studio-bench-render-{Environment.ProcessId}-{Guid.NewGuid():N}");

        try
        {
            // Warm-up outside the timings: JIT, FFMpegCore's one-off `ffmpeg -version`, ffmpeg's libraries in the page cache.
            new ClipEncoder(Path.Combine(root, "warmup")) { ClipsPerProcess = s.PerProcess }
                .EncodeMany(makeSegments(2, s.Seed + 7919), renderer, s.Parallel);

            var drawCpu = CpuTime.Now();
            var predrawn = batches.Select(b => Predraw(renderer, b.Select(i => segments[i]).ToArray())).ToArray();
            double? drawCpuMsPerClip = (CpuTime.Now() - drawCpu)?.TotalMilliseconds / s.Clips;
            var frameCounts = batches.Select(b => b.Select(i => renderer.FrameCount(segments[i])).ToArray()).ToArray();
            PrintCommands(ffmpeg, renderer, frameCounts[0], Path.Combine(root, "x-%d.mp4"));

            var runs = new List<Run>();
            for (int r = 0; r < s.Repeat; r++)
            {
                var ours = await Measure(() => TimeEncoderAsync(renderer, segments, s, Path.Combine(root, $"ours-{r}")), s.Clips);
                var floor = await Measure(() => TimeFloorAsync(ffmpeg, renderer, predrawn, frameCounts, s.Parallel, Path.Combine(root, $"floor-{r}"), viaFfmpegCore: false), s.Clips);
                var floorCore = await Measure(() => TimeFloorAsync(ffmpeg, renderer, predrawn, frameCounts, s.Parallel, Path.Combine(root, $"floorcore-{r}"), viaFfmpegCore: true), s.Clips);
                var run = new Run(ours, floor, floorCore);
                runs.Add(run);
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"run {r + 1}/{s.Repeat}: ours {ours.ClipsPerSecond:F2} clips/s ({ours.CpuMsPerClip:F1} CPU ms/clip), floor {floor.ClipsPerSecond:F2} clips/s ({floor.CpuMsPerClip:F1} CPU ms/clip), ratio {floor.ClipsPerSecond / ours.ClipsPerSecond:F3}; floor through FFMpegCore {floorCore.ClipsPerSecond:F2} clips/s ({floorCore.CpuMsPerClip:F1} CPU ms/clip)"));
            }

            double oursMedian = Median(runs.Select(x => x.Ours.ClipsPerSecond));
            double floorMedian = Median(runs.Select(x => x.Floor.ClipsPerSecond));
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["bench"] = "render",
                ["clips_per_second"] = Round(oursMedian),
                ["floor_clips_per_second"] = Round(floorMedian),
                ["ratio"] = Round(Median(runs.Select(x => x.Floor.ClipsPerSecond / x.Ours.ClipsPerSecond)), 3),
                ["parallel"] = s.Parallel,
                ["clips"] = s.Clips,
                ["frames"] = s.Frames,
                ["size"] = s.Size,
                ["clips_per_process"] = perProcess,
                ["renderer"] = renderer.SettingsKey,
                ["encoder"] = ClipEncodingArguments.SettingsKey,
                ["floor_via_ffmpegcore_clips_per_second"] = Round(Median(runs.Select(x => x.FloorViaFfmpegCore.ClipsPerSecond))),
                ["predraw_cpu_ms_per_clip"] = RoundOrNull(drawCpuMsPerClip),
                ["cpu_ms_per_clip"] = RoundOrNull(MedianOrNull(runs.Select(x => x.Ours.CpuMsPerClip))),
                ["floor_cpu_ms_per_clip"] = RoundOrNull(MedianOrNull(runs.Select(x => x.Floor.CpuMsPerClip))),
                ["floor_via_ffmpegcore_cpu_ms_per_clip"] = RoundOrNull(MedianOrNull(runs.Select(x => x.FloorViaFfmpegCore.CpuMsPerClip))),
                ["repeat"] = s.Repeat,
                ["runs_clips_per_second"] = runs.Select(x => Round(x.Ours.ClipsPerSecond)).ToArray(),
                ["runs_floor_clips_per_second"] = runs.Select(x => Round(x.Floor.ClipsPerSecond)).ToArray(),
                ["runs_ratio"] = runs.Select(x => Round(x.Floor.ClipsPerSecond / x.Ours.ClipsPerSecond, 3)).ToArray(),
                ["load_average_1m"] = CpuTime.LoadAverage() is { } load ? Round(load) : null!,
                ["cores"] = Environment.ProcessorCount,
            }));
            return 0;
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    private static async Task<Timing> Measure(Func<Task<double>> timed, int clips)
    {
        var cpu = CpuTime.Now();
        double seconds = await timed();
        return new Timing(clips / seconds, (CpuTime.Now() - cpu)?.TotalMilliseconds / clips);
    }

    /// <returns>Seconds to encode every segment with the real encoder into an empty folder.</returns>
    private static async Task<double> TimeEncoderAsync(IFrameRenderer renderer, IReadOnlyList<Segment> segments, Settings s, string folder)
    {
        var encoder = new ClipEncoder(folder) { ClipsPerProcess = s.PerProcess };
        var watch = Stopwatch.StartNew();
        var results = await encoder.EncodeManyAsync(segments, renderer, s.Parallel);
        double seconds = watch.Elapsed.TotalSeconds;
        if (results.FirstOrDefault(r => !r.Succeeded) is { } failed)
            throw new InvalidOperationException($"Clip {failed.Index} failed: {failed.Error}");
        if (results.Any(r => r.Reused)) throw new InvalidOperationException("A clip was reused; the bench needs distinct segments in a fresh folder.");
        return seconds;
    }

    /// <returns>Seconds ffmpeg alone needs for the same batches at the same parallelism, frames coming from memory.</returns>
    private static async Task<double> TimeFloorAsync(string ffmpeg, IFrameRenderer renderer, byte[][] predrawn, int[][] frameCounts,
        int parallel, string folder, bool viaFfmpegCore)
    {
        Directory.CreateDirectory(folder);
        var watch = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, predrawn.Length), new ParallelOptions { MaxDegreeOfParallelism = parallel }, async (b, token) =>
        {
            string pattern = Path.Combine(folder, $"b{b}-%d.mp4");
            if (viaFfmpegCore)
            {
                var source = new RawVideoPipeSource(MemoryFrames(predrawn[b], renderer)) { FrameRate = renderer.FrameRate };
                var result = await FFMpegArguments.FromPipeInput(source)
                    .OutputToFile(pattern, overwrite: true, o => o.WithCustomArgument(ClipEncodingArguments.Output(frameCounts[b])))
                    .ProcessAsynchronously(false, new FFOptions { BinaryFolder = Path.GetDirectoryName(ffmpeg)! }, token);
                if (!result.Success) throw new InvalidOperationException($"ffmpeg (via FFMpegCore) failed: {string.Join('\n', result.StandardError)}");
            }
            else
            {
                string command = ClipEncodingArguments.StdinCommand(renderer.Width, renderer.Height, renderer.FrameRate, frameCounts[b], pattern);
                var (exit, stderr) = await FfmpegStdinRun.RunAsync(ffmpeg, command, predrawn[b], token);
                if (exit != 0) throw new InvalidOperationException($"ffmpeg failed with exit code {exit}: {stderr}");
            }
        });
        double seconds = watch.Elapsed.TotalSeconds;
        int expected = frameCounts.Sum(c => c.Length);
        int written = Directory.EnumerateFiles(folder, "*.mp4").Count();
        if (written != expected) throw new InvalidOperationException($"The floor wrote {written} clips, expected {expected}.");
        return seconds;
    }

    private static IEnumerable<IVideoFrame> MemoryFrames(byte[] frames, IFrameRenderer renderer)
    {
        int frameBytes = renderer.Width * renderer.Height * 4;
        for (int at = 0; at < frames.Length; at += frameBytes)
            yield return new MemoryFrame(frames.AsMemory(at, frameBytes), renderer.Width, renderer.Height);
    }

    private static byte[] Predraw(IFrameRenderer renderer, IReadOnlyList<Segment> batch)
    {
        int frameBytes = renderer.Width * renderer.Height * 4;
        long total = batch.Sum(seg => (long)renderer.FrameCount(seg)) * frameBytes;
        var buffer = GC.AllocateUninitializedArray<byte>(checked((int)total));
        using var bitmap = new SKBitmap(new SKImageInfo(renderer.Width, renderer.Height, SKColorType.Bgra8888, SKAlphaType.Premul));
        int at = 0;
        foreach (var segment in batch)
        {
            for (int f = 0; f < renderer.FrameCount(segment); f++)
            {
                using (var canvas = new SKCanvas(bitmap))
                {
                    renderer.DrawFrame(segment, f, canvas);
                    canvas.Flush();
                }
                bitmap.GetPixelSpan().CopyTo(buffer.AsSpan(at, frameBytes));
                at += frameBytes;
            }
        }
        return buffer;
    }

    private static void PrintCommands(string ffmpeg, IFrameRenderer renderer, int[] frameCounts, string pattern)
    {
        var viaCore = FFMpegArguments.FromPipeInput(new RawVideoPipeSource(MemoryFrames(new byte[renderer.Width * renderer.Height * 4], renderer)) { FrameRate = renderer.FrameRate })
            .OutputToFile(pattern, overwrite: true, o => o.WithCustomArgument(ClipEncodingArguments.Output(frameCounts)));
        Console.Error.WriteLine($"encoder (FFMpegCore): {ffmpeg} {viaCore.Arguments}");
        Console.Error.WriteLine($"floor (stdin):        {ffmpeg} {ClipEncodingArguments.StdinCommand(renderer.Width, renderer.Height, renderer.FrameRate, frameCounts, pattern)}");
    }

    /// <summary>A delivery renderer whose clips of random walks have exactly <paramref name="frames"/> frames, and the walks.</summary>
    private static (IFrameRenderer, Func<int, int, Segment[]>) DeliveryBench(int frames, int size)
    {
        const int holdStart = 4, framesPerMove = 6;
        int moves = Math.Max(1, (frames - holdStart - 1) / framesPerMove);
        var renderer = new DeliveryFrameRenderer(DeliveryGridworld.Standard, new DeliveryRenderOptions
        {
            Width = size, Height = size, FramesPerMove = framesPerMove, HoldStartFrames = holdStart,
            HoldEndFrames = frames - holdStart - moves * framesPerMove,
        });
        var env = DeliveryGridworld.Standard;
        return (renderer, (count, seed) => Distinct(renderer, count, seed, rng =>
        {
            var states = new List<double[]> { env.SampleStart(rng) };
            var actions = new List<int>();
            for (int t = 0; t < moves; t++)
            {
                actions.Add(rng.Next(env.ActionCount));
                states.Add(env.NextState(states[^1], actions[^1]));
            }
            return Segment.Discrete(states.ToArray(), actions);
        }));
    }

    /// <summary>A pendulum renderer with one frame per step and no hold frames, and random-torque rollouts of <paramref name="frames"/> steps.</summary>
    private static (IFrameRenderer, Func<int, int, Segment[]>) PendulumBench(int frames, int size)
    {
        var renderer = new PendulumFrameRenderer(new ControlRenderOptions { Width = size, Height = size, HoldStartFrames = 0, HoldEndFrames = 0 });
        var env = new Pendulum();
        return (renderer, (count, seed) => Distinct(renderer, count, seed, rng =>
        {
            var states = new List<double[]> { env.SampleStart(rng) };
            var actions = new List<double[]>();
            for (int t = 0; t < frames; t++)
            {
                actions.Add([(rng.NextDouble() * 2 - 1) * Pendulum.MaxTorque]);
                states.Add(env.Step(states[^1], actions[^1]).Next);
            }
            return new Segment(states.ToArray(), actions.ToArray());
        }));
    }

    private static Segment[] Distinct(IFrameRenderer renderer, int count, int seed, Func<Random, Segment> sample)
    {
        var rng = new Random(seed);
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var segments = new List<Segment>(count);
        for (int attempt = 0; segments.Count < count; attempt++)
        {
            if (attempt > 100 * count) throw new InvalidOperationException($"Could not find {count} distinct segments.");
            var segment = sample(rng);
            if (keys.Add(ClipEncoder.ContentKey(segment, renderer))) segments.Add(segment);
        }
        return segments.ToArray();
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static double? MedianOrNull(IEnumerable<double?> values)
    {
        var known = values.ToArray();
        return known.All(v => v.HasValue) ? Median(known.Select(v => v!.Value)) : null;
    }

    private static double Round(double v, int digits = 2) => Math.Round(v, digits);

    private static object RoundOrNull(double? v) => v is { } x ? Round(x) : null!;

    private sealed record Timing(double ClipsPerSecond, double? CpuMsPerClip);

    private sealed record Run(Timing Ours, Timing Floor, Timing FloorViaFfmpegCore);

    private sealed record Settings(int Clips, int Parallel, int Frames, int Size, int PerProcess, int Repeat, int Seed, string Renderer)
    {
        public void Validate()
        {
            if (Renderer is not ("pendulum" or "delivery")) throw new CliUsageException($"--renderer must be pendulum or delivery, got '{Renderer}'.");
            if (Clips < 1) throw new CliUsageException("--clips must be at least 1.");
            if (Parallel < 1) throw new CliUsageException("--parallel must be at least 1.");
            if (Frames < 11) throw new CliUsageException("--frames must be at least 11 (start hold, one move, end hold).");
            if (Size < 16 || Size % 2 != 0) throw new CliUsageException("--size must be even and at least 16.");
            if (PerProcess < 1) throw new CliUsageException("--per-process must be at least 1.");
            if (Repeat < 1) throw new CliUsageException("--repeat must be at least 1.");
            long bytes = (long)Clips * Frames * Size * Size * 4;
            if (bytes > MaxPredrawnBytes)
                throw new CliUsageException($"The floor keeps every frame in memory: {bytes >> 20} MiB for these settings; use fewer --clips or a smaller --size (limit {MaxPredrawnBytes >> 20} MiB).");
        }
    }

    private sealed class MemoryFrame(ReadOnlyMemory<byte> pixels, int width, int height) : IVideoFrame
    {
        public int Width => width;
        public int Height => height;
        public string PixelFormat => ClipEncodingArguments.InputPixelFormat;
        public void Serialize(Stream pipe) => pipe.Write(pixels.Span);
        public async Task SerializeAsync(Stream pipe, CancellationToken token) => await pipe.WriteAsync(pixels, token).ConfigureAwait(false);
    }

    /// <summary>CPU time of this process plus its finished children (ffmpeg), from /proc; null where there is no /proc.</summary>
    private static class CpuTime
    {
        // USER_HZ: 100 on every Linux build .NET runs on.
        private const double TicksPerSecond = 100;

        public static TimeSpan? Now()
        {
            try
            {
                string stat = File.ReadAllText("/proc/self/stat");
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                // After the command name: state is field 3, so utime, stime, cutime, cstime (fields 14-17) sit at 11-14.
                long ticks = Enumerable.Range(11, 4).Sum(i => long.Parse(fields[i], CultureInfo.InvariantCulture));
                return TimeSpan.FromSeconds(ticks / TicksPerSecond);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
            {
                return null;
            }
        }

        public static double? LoadAverage()
        {
            try { return double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { return null; }
        }
    }
}
