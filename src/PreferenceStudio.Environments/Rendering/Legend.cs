using SkiaSharp;

namespace PreferenceStudio.Environments.Rendering;

/// <summary>One thing raters see in the clips: a picture drawn by the environment's own renderer, its name and what it means.</summary>
public sealed record LegendItem(string Name, string Meaning, byte[] Png);

/// <summary>A renderer that can explain its pictures, for the instructions raters read.</summary>
public interface ILegend
{
    IReadOnlyList<LegendItem> Legend();
}

/// <summary>Helpers for drawing legend pictures.</summary>
public static class LegendPictures
{
    /// <summary>Draws on a fresh canvas of the given size and returns it as PNG.</summary>
    public static byte[] Png(int width, int height, Action<SKCanvas> draw)
    {
        using var surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        surface.Canvas.Clear(SKColors.Transparent);
        draw(surface.Canvas);
        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>A frame of a short made-up segment, drawn by the renderer as in a clip.</summary>
    public static byte[] Frame(IFrameRenderer renderer, Segment segment, int frameIndex) =>
        Png(renderer.Width, renderer.Height, canvas => renderer.DrawFrame(segment, frameIndex, canvas));

    /// <summary>The legend of an environment's clips, or none when its renderer has no legend.</summary>
    public static IReadOnlyList<LegendItem> For(IPreferenceEnvironment env) =>
        FrameRenderers.TryFor(env, out var renderer) && renderer is ILegend legend ? legend.Legend() : [];
}
