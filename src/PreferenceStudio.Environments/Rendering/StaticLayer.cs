using SkiaSharp;

namespace PreferenceStudio.Environments.Rendering;

/// <summary>
/// The part of a clip that never moves (a board, a maze, a hill), drawn once into pixels. Copying the image each frame
/// is far cheaper than drawing it again: replaying the delivery board cost about 20 ms per 50-frame clip, the copy
/// about 1 (bench render), and frames are drawn on the path that opens a round.
/// </summary>
public static class StaticLayer
{
    public static SKImage Rasterise(int width, int height, Action<SKCanvas> draw)
    {
        ArgumentNullException.ThrowIfNull(draw);
        using var surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Bgra8888, SKAlphaType.Premul))
            ?? throw new InvalidOperationException($"Could not allocate a {width} x {height} surface.");
        draw(surface.Canvas);
        return surface.Snapshot();
    }
}
