using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using FFMpegCore;
using FFMpegCore.Pipes;
using PreferenceStudio.Core.Infrastructure;
using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Rendering;

namespace PreferenceStudio.Core.Media;

/// <summary>
/// Renders segments' frames on the fly and pipes them into ffmpeg (through FFMpegCore) as H.264 MP4 (libx264, yuv420p,
/// +faststart), with a PNG poster beside each. Clips are content-addressed: the file name is the SHA-256 of the segment,
/// the renderer's settings and the encoder settings, so an identical segment is encoded once and then reused.
/// </summary>
/// <remarks>
/// <para>Several clips share one ffmpeg process (<see cref="ClipsPerProcess"/>; see <see cref="ClipEncodingArguments"/>
/// for why), and <see cref="EncodeManyAsync"/> runs several processes at once. A clip's bytes can therefore differ
/// slightly with the clips it was batched with (x264's rate control carries over); what it shows does not.</para>
/// <para>Files are written under a temporary name in the media folder and renamed into place (poster first, MP4 last),
/// so a crash never leaves a partial file under a final name, and an existing MP4 means a finished clip.
/// Two concurrent encodes of the same segment both do the work; the renames make the outcome the same.</para>
/// </remarks>
public sealed class ClipEncoder
{
    /// <summary>Clips sent through one ffmpeg process when there are enough to keep every process busy.</summary>
    public const int DefaultClipsPerProcess = 8;

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

    /// <summary>Most clips one ffmpeg process encodes (at least 1). Fewer when there are too few clips to share out.</summary>
    public int ClipsPerProcess { get; init; } = DefaultClipsPerProcess;

    /// <summary>How many times this encoder has started ffmpeg (cache hits do not count).</summary>
    public int FfmpegRuns => Volatile.Read(ref _ffmpegRuns);

    /// <summary>Lower-case hex SHA-256 naming the clip of this segment drawn by this renderer.</summary>
    public static string ContentKey(Segment segment, IFrameRenderer renderer)
    {
        var text = new StringBuilder("preferencestudio-clip/1\n")
            .Append(ClipEncodingArguments.SettingsKey).Append('\n')
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

    /// <summary>Full path the PNG poster of a content key has (whether or not it exists yet).</summary>
    public string PosterPathFor(string contentKey) => Path.Combine(MediaFolder, contentKey + ".png");

    /// <summary>The finished clip of this segment, if one was encoded before.</summary>
    public bool TryGetExisting(Segment segment, IFrameRenderer renderer, out EncodedClip clip) =>
        TryGetExisting(ContentKey(segment, renderer), segment, renderer, out clip);

    /// <summary>Encodes the clip, or returns the existing one with the same content.</summary>
    /// <exception cref="ClipEncodingException">ffmpeg or the renderer failed; the message carries ffmpeg's error output or the renderer's exception.</exception>
    /// <exception cref="InvalidOperationException">ffmpeg is not installed and could not be installed.</exception>
    public EncodedClip Encode(Segment segment, IFrameRenderer renderer, CancellationToken cancellationToken = default) =>
        EncodeAsync(segment, renderer, cancellationToken).GetAwaiter().GetResult();

    /// <inheritdoc cref="Encode"/>
    public async Task<EncodedClip> EncodeAsync(Segment segment, IFrameRenderer renderer, CancellationToken cancellationToken = default)
    {
        EnsureEvenSize(renderer);
        string key = ContentKey(segment, renderer);
        if (TryGetExisting(key, segment, renderer, out var existing)) return existing;
        string ffmpegFolder = _tools.EnsureFfmpeg();
        var job = new Job(key, segment, renderer.FrameCount(segment));
        var outcome = (await EncodeBatchAsync([job], renderer, ffmpegFolder, cancellationToken).ConfigureAwait(false))[0];
        return outcome.Clip ?? throw outcome.Failure!;
    }

    /// <inheritdoc cref="EncodeManyAsync"/>
    public IReadOnlyList<ClipEncodeResult> EncodeMany(IReadOnlyList<Segment> segments, IFrameRenderer renderer, int maxParallel = 0,
        Action<ClipEncodeResult>? onFinished = null, CancellationToken cancellationToken = default) =>
        EncodeManyAsync(segments, renderer, maxParallel, onFinished, cancellationToken).GetAwaiter().GetResult();

    /// <summary>
    /// Encodes many clips, up to <paramref name="maxParallel"/> ffmpeg processes at once, reusing clips that exist.
    /// A clip that cannot be encoded (ffmpeg error, missing ffmpeg, renderer exception) comes back failed with the
    /// reason; the others are still encoded. Identical segments in the list are encoded once.
    /// </summary>
    /// <param name="maxParallel">ffmpeg processes at once; 0 or less means one per core.</param>
    /// <param name="onFinished">Called once per segment as soon as its result is known (reused clips first), from worker
    /// threads, possibly concurrently; for progress reports. Exceptions it throws propagate and stop the call.</param>
    /// <returns>One result per segment, in the order given.</returns>
    /// <exception cref="ArgumentException">The renderer draws an odd width or height (H.264 yuv420p needs even ones).</exception>
    /// <exception cref="OperationCanceledException">Cancelled; finished clips stay on disk and are reused next time.</exception>
    public async Task<IReadOnlyList<ClipEncodeResult>> EncodeManyAsync(IReadOnlyList<Segment> segments, IFrameRenderer renderer,
        int maxParallel = 0, Action<ClipEncodeResult>? onFinished = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(segments);
        EnsureEvenSize(renderer);
        if (maxParallel <= 0) maxParallel = Environment.ProcessorCount;

        var results = new ClipEncodeResult[segments.Count];
        var byKey = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        var jobs = new List<Job>();
        for (int i = 0; i < segments.Count; i++)
        {
            string key = ContentKey(segments[i], renderer);
            if (byKey.TryGetValue(key, out var same))
            {
                same.Add(i);
                continue;
            }
            byKey[key] = [i];
            if (TryGetExisting(key, segments[i], renderer, out var existing))
                results[i] = new ClipEncodeResult(i, segments[i], key, existing, null, Reused: true);
            else if (FrameCountOrError(segments[i], renderer, out int frames) is { } error)
                results[i] = new ClipEncodeResult(i, segments[i], key, null, error, Reused: false);
            else
                jobs.Add(new Job(key, segments[i], frames, i));
        }

        // Duplicates of a segment share its result; they are known once the first is.
        void Publish(ClipEncodeResult first)
        {
            results[first.Index] = first;
            onFinished?.Invoke(first);
            var copies = byKey[first.ContentKey];
            for (int d = 1; d < copies.Count; d++)
            {
                results[copies[d]] = first with { Index = copies[d], Segment = segments[copies[d]] };
                onFinished?.Invoke(results[copies[d]]);
            }
        }
        foreach (var (_, indices) in byKey)
            if (results[indices[0]] is { } known) Publish(known);

        if (jobs.Count > 0)
        {
            string? ffmpegFolder = null;
            string? missing = null;
            try { ffmpegFolder = _tools.EnsureFfmpeg(); }
            catch (InvalidOperationException e) { missing = e.Message; }

            if (ffmpegFolder is null)
            {
                foreach (var job in jobs) Publish(new ClipEncodeResult(job.Index, job.Segment, job.Key, null, missing, Reused: false));
            }
            else
            {
                // Enough clips per process to amortise its start-up, few enough that every process gets work.
                int perProcess = Math.Clamp((jobs.Count + maxParallel - 1) / maxParallel, 1, Math.Max(1, ClipsPerProcess));
                var batches = jobs.Chunk(perProcess).ToList();
                await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = maxParallel, CancellationToken = cancellationToken },
                    async (batch, token) =>
                    {
                        var outcomes = await EncodeBatchAsync(batch, renderer, ffmpegFolder, token).ConfigureAwait(false);
                        for (int b = 0; b < batch.Length; b++)
                            Publish(new ClipEncodeResult(batch[b].Index, batch[b].Segment, batch[b].Key,
                                outcomes[b].Clip, outcomes[b].Failure?.Message, Reused: false));
                    }).ConfigureAwait(false);
            }
        }

        return results;
    }

    /// <summary>
    /// One ffmpeg process for the whole batch. If ffmpeg itself fails on a batch of several clips, each clip is tried
    /// alone, so one clip's trouble does not fail the others.
    /// </summary>
    private async Task<Outcome[]> EncodeBatchAsync(IReadOnlyList<Job> batch, IFrameRenderer renderer, string ffmpegFolder, CancellationToken cancellationToken)
    {
        string stem = Path.Combine(MediaFolder, $"batch-{Guid.NewGuid():N}{PartialMarker}-");
        string pattern = stem + "%d.mp4";
        var posters = batch.Select((_, i) => $"{stem}{i}.png").ToArray();
        try
        {
            using var frames = new ClipBatchFrames(renderer, batch.Select((j, i) => new ClipBatchEntry(j.Segment, j.FrameCount, posters[i])).ToArray());
            var failure = await RunFfmpegAsync(frames, batch.Select(j => j.FrameCount).ToArray(), renderer, pattern, ffmpegFolder, cancellationToken).ConfigureAwait(false);
            if (failure is null)
            {
                // Renderer exceptions are caught per clip; anything else stopped the frames early, so no output can be trusted.
                try { await frames.Drawn.ConfigureAwait(false); }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    failure = new ClipEncodingException($"Drawing the frames of {batch.Count} clip(s) stopped: {e.GetType().Name}: {e.Message}", null, e);
                }
            }
            if (failure is not null)
            {
                if (batch.Count == 1) return [new Outcome(null, failure)];
                var alone = new Outcome[batch.Count];
                for (int i = 0; i < batch.Count; i++)
                    alone[i] = (await EncodeBatchAsync([batch[i]], renderer, ffmpegFolder, cancellationToken).ConfigureAwait(false))[0];
                return alone;
            }

            var outcomes = new Outcome[batch.Count];
            for (int i = 0; i < batch.Count; i++)
                outcomes[i] = frames.Errors[i] is { } drawError
                    ? new Outcome(null, new ClipEncodingException($"Clip {batch[i].Key} could not be drawn: {drawError}"))
                    : Finish(batch[i], ClipEncodingArguments.OutputPath(pattern, i), posters[i], renderer);
            return outcomes;
        }
        finally
        {
            for (int i = 0; i < batch.Count; i++)
            {
                TryDelete(ClipEncodingArguments.OutputPath(pattern, i));
                TryDelete(posters[i]);
            }
        }
    }

    /// <returns>Null when ffmpeg succeeded; otherwise why it failed, with ffmpeg's error lines.</returns>
    private async Task<ClipEncodingException?> RunFfmpegAsync(ClipBatchFrames frames, int[] frameCounts, IFrameRenderer renderer,
        string pattern, string ffmpegFolder, CancellationToken cancellationToken)
    {
        var ffOptions = new FFOptions { BinaryFolder = ffmpegFolder, TemporaryFilesFolder = Path.GetTempPath() };
        var source = new RawVideoPipeSource(frames.Frames()) { FrameRate = renderer.FrameRate };
        var stderr = new List<string>();
        string what = frameCounts.Length == 1 ? "the clip" : $"a batch of {frameCounts.Length} clips";

        Interlocked.Increment(ref _ffmpegRuns);
        FFMpegResult result;
        try
        {
            result = await FFMpegArguments
                .FromPipeInput(source)
                .OutputToFile(pattern, overwrite: true, options => options.WithCustomArgument(ClipEncodingArguments.Output(frameCounts)))
                .NotifyOnStandardError(line => { lock (stderr) stderr.Add(line); })
                .ProcessAsynchronously(false, ffOptions, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new ClipEncodingException($"ffmpeg failed to encode {what}: {e.Message}{StderrTail(stderr)}", null, e);
        }
        cancellationToken.ThrowIfCancellationRequested();
        if (!result.Success)
        {
            var lines = result.StandardError.Count > 0 ? result.StandardError : stderr;
            return new ClipEncodingException($"ffmpeg exited with code {result.ExitCode} while encoding {what}.{StderrTail(lines)}", result.ExitCode);
        }
        return null;
    }

    private Outcome Finish(Job job, string tempVideo, string tempPoster, IFrameRenderer renderer)
    {
        if (!File.Exists(tempVideo) || new FileInfo(tempVideo).Length == 0)
            return new Outcome(null, new ClipEncodingException($"ffmpeg reported success but wrote no video for clip {job.Key}."));
        if (!File.Exists(tempPoster))
            return new Outcome(null, new ClipEncodingException($"The poster of clip {job.Key} was not written."));
        string sha = HashFile(tempVideo);
        string finalPath = PathFor(job.Key);
        File.Move(tempPoster, PosterPathFor(job.Key), overwrite: true);
        File.Move(tempVideo, finalPath, overwrite: true);
        return new Outcome(Describe(finalPath, sha, job.FrameCount, renderer), null);
    }

    private bool TryGetExisting(string key, Segment segment, IFrameRenderer renderer, out EncodedClip clip)
    {
        var path = PathFor(key);
        if (File.Exists(path) && File.Exists(PosterPathFor(key)))
        {
            clip = Describe(path, HashFile(path), renderer.FrameCount(segment), renderer);
            return true;
        }
        clip = null!;
        return false;
    }

    private static string? FrameCountOrError(Segment segment, IFrameRenderer renderer, out int frames)
    {
        try
        {
            frames = renderer.FrameCount(segment);
            return frames >= 1 ? null : $"The renderer gives this segment {frames} frames; a clip needs at least one.";
        }
        catch (Exception e)
        {
            frames = 0;
            return $"The renderer could not count this segment's frames: {e.GetType().Name}: {e.Message}";
        }
    }

    private static void EnsureEvenSize(IFrameRenderer renderer)
    {
        if (renderer.Width % 2 != 0 || renderer.Height % 2 != 0)
            throw new ArgumentException($"H.264 in yuv420p needs an even width and height; the renderer draws {renderer.Width} x {renderer.Height}.", nameof(renderer));
    }

    private static EncodedClip Describe(string path, string sha, int frames, IFrameRenderer renderer) =>
        new(path, sha, frames, renderer.Width, renderer.Height, TimeSpan.FromSeconds(frames / renderer.FrameRate));

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

    private sealed record Job(string Key, Segment Segment, int FrameCount, int Index = 0);

    private sealed record Outcome(EncodedClip? Clip, ClipEncodingException? Failure);
}
