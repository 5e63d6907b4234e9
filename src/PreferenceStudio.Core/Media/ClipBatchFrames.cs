using System.Runtime.InteropServices;
using System.Threading.Channels;
using FFMpegCore.Pipes;
using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Rendering;
using SkiaSharp;

namespace PreferenceStudio.Core.Media;

/// <summary>One clip of a batch: the segment, how many frames it has, and where its poster goes.</summary>
internal sealed record ClipBatchEntry(Segment Segment, int FrameCount, string PosterPath);

/// <summary>
/// The frames of a batch of clips, back to back, drawn by a background task a few frames ahead of ffmpeg into a small
/// ring of pinned BGRA buffers that go into the pipe without a copy. No clip is held in memory. The poster (the clip's
/// last frame, which shows the whole path) is saved as that frame is drawn.
/// </summary>
/// <remarks>
/// Drawing ahead matters when cores are shared: drawn on demand, every frame waits for a scheduler turn of the drawing
/// thread and then of ffmpeg, in lockstep (a frame is larger than the pipe's buffer).
/// A renderer that throws fails only its own clip: the clip's remaining frames are sent black so the other clips keep
/// their places in the stream (the segment muxer cuts by frame number), and the clip's output is discarded afterwards.
/// </remarks>
internal sealed class ClipBatchFrames : IDisposable
{
    private const int FramesAhead = 8;

    // Fast zlib: a 256 x 256 poster takes about 1.3 ms instead of 3.2 ms at the default level (measured), a few KB larger.
    private static readonly SKPngEncoderOptions PosterPng = new(SKPngEncoderFilterFlags.Sub, zLibLevel: 1);

    private readonly IFrameRenderer _renderer;
    private readonly IReadOnlyList<ClipBatchEntry> _clips;
    private readonly string?[] _errors;
    private readonly FrameBuffer[] _buffers;
    private readonly Channel<FrameBuffer> _free = Channel.CreateUnbounded<FrameBuffer>();
    private readonly Channel<FrameBuffer> _ready = Channel.CreateUnbounded<FrameBuffer>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _drawing;

    public ClipBatchFrames(IFrameRenderer renderer, IReadOnlyList<ClipBatchEntry> clips)
    {
        _renderer = renderer;
        _clips = clips;
        _errors = new string?[clips.Count];
        var info = new SKImageInfo(renderer.Width, renderer.Height, SKColorType.Bgra8888, SKAlphaType.Premul);
        _buffers = new FrameBuffer[Math.Min(FramesAhead, Math.Max(1, clips.Sum(c => c.FrameCount)))];
        for (int i = 0; i < _buffers.Length; i++)
        {
            _buffers[i] = new FrameBuffer(info);
            _free.Writer.TryWrite(_buffers[i]);
        }
        _drawing = Task.Run(DrawAllAsync);
    }

    /// <summary>Why each clip failed while drawing (null: it drew every frame and its poster). Complete once <see cref="Drawn"/> is.</summary>
    public IReadOnlyList<string?> Errors => _errors;

    /// <summary>Finishes when every frame has been drawn.</summary>
    public Task Drawn => _drawing;

    public IEnumerable<IVideoFrame> Frames()
    {
        for (int clip = 0; clip < _clips.Count; clip++)
            for (int frame = 0; frame < _clips[clip].FrameCount; frame++)
                yield return new Frame(this);
    }

    private async Task DrawAllAsync()
    {
        try
        {
            for (int clip = 0; clip < _clips.Count; clip++)
            {
                for (int frame = 0; frame < _clips[clip].FrameCount; frame++)
                {
                    var buffer = await _free.Reader.ReadAsync(_stop.Token).ConfigureAwait(false);
                    Draw(buffer.Bitmap, clip, frame);
                    _ready.Writer.TryWrite(buffer);
                }
            }
            _ready.Writer.TryComplete();
        }
        catch (Exception e)
        {
            _ready.Writer.TryComplete(e);
            if (e is not OperationCanceledException) throw;
        }
    }

    private void Draw(SKBitmap bitmap, int clip, int frame)
    {
        var entry = _clips[clip];
        if (_errors[clip] is not null)
        {
            bitmap.Erase(SKColors.Black);
            return;
        }
        try
        {
            using (var canvas = new SKCanvas(bitmap))
            {
                _renderer.DrawFrame(entry.Segment, frame, canvas);
                canvas.Flush();
            }
            if (frame == entry.FrameCount - 1) SavePoster(bitmap, entry.PosterPath);
        }
        catch (Exception e)
        {
            _errors[clip] = $"Drawing frame {frame} of {entry.FrameCount} failed: {e.GetType().Name}: {e.Message}";
            bitmap.Erase(SKColors.Black);
        }
    }

    private static void SavePoster(SKBitmap bitmap, string path)
    {
        using var pixmap = bitmap.PeekPixels();
        using var png = pixmap.Encode(PosterPng) ?? throw new InvalidOperationException("Skia could not encode the poster as PNG.");
        using var file = File.Create(path);
        png.SaveTo(file);
    }

    private async ValueTask WriteNextAsync(Stream pipe, CancellationToken token)
    {
        var buffer = await _ready.Reader.ReadAsync(token).ConfigureAwait(false);
        try { await pipe.WriteAsync(buffer.Pixels, token).ConfigureAwait(false); }
        finally { _free.Writer.TryWrite(buffer); }
    }

    public void Dispose()
    {
        // ffmpeg may have stopped reading early (it failed); the drawing task must let go of the buffers first.
        _stop.Cancel();
        try { _drawing.Wait(); }
        catch (AggregateException) { }
        foreach (var b in _buffers) b.Bitmap.Dispose();
        _stop.Dispose();
    }

    private sealed class FrameBuffer
    {
        public FrameBuffer(SKImageInfo info)
        {
            // Pinned so Skia draws straight into the array that is then handed to the pipe.
            Pixels = GC.AllocateUninitializedArray<byte>(info.BytesSize, pinned: true);
            Bitmap = new SKBitmap();
            if (!Bitmap.InstallPixels(info, Marshal.UnsafeAddrOfPinnedArrayElement(Pixels, 0), info.RowBytes))
                throw new InvalidOperationException($"Could not set up a {info.Width} x {info.Height} BGRA frame buffer.");
        }

        public byte[] Pixels { get; }
        public SKBitmap Bitmap { get; }
    }

    private sealed class Frame(ClipBatchFrames batch) : IVideoFrame
    {
        public int Width => batch._renderer.Width;
        public int Height => batch._renderer.Height;
        public string PixelFormat => ClipEncodingArguments.InputPixelFormat;

        public void Serialize(Stream pipe) => batch.WriteNextAsync(pipe, CancellationToken.None).AsTask().GetAwaiter().GetResult();

        public Task SerializeAsync(Stream pipe, CancellationToken token) => batch.WriteNextAsync(pipe, token).AsTask();
    }
}
