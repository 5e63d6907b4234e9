using FFMpegCore.Pipes;
using SkiaSharp;

namespace PreferenceStudio.Core.Media;

/// <summary>
/// One frame handed to ffmpeg: drawn into a shared BGRA bitmap only when ffmpeg asks for it, so a clip is never
/// held in memory. Frames must be serialised in order, one at a time (which is how the raw video pipe reads them).
/// </summary>
internal sealed class BgraVideoFrame(SKBitmap bitmap, Action<SKBitmap> draw) : IVideoFrame
{
    public int Width => bitmap.Width;
    public int Height => bitmap.Height;
    public string PixelFormat => "bgra";

    public void Serialize(Stream pipe)
    {
        draw(bitmap);
        pipe.Write(bitmap.GetPixelSpan());
    }

    public async Task SerializeAsync(Stream pipe, CancellationToken token)
    {
        draw(bitmap);
        await pipe.WriteAsync(bitmap.GetPixelSpan().ToArray(), token).ConfigureAwait(false);
    }
}
