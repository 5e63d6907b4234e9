using SkiaSharp;

namespace PreferenceStudio.Environments.Rendering;

/// <summary>
/// Draws the frames of a segment's clip. Frames are drawn on demand, one at a time, so a clip never has to sit in memory.
/// </summary>
public interface IFrameRenderer
{
    int Width { get; }

    int Height { get; }

    /// <summary>Frames per second the clip is meant to play at.</summary>
    double FrameRate { get; }

    /// <summary>
    /// Identifies everything besides the segment that changes the pixels (renderer version, size, timing, board),
    /// so encoders can address clips by content.
    /// </summary>
    string SettingsKey { get; }

    int FrameCount(Segment segment);

    /// <summary>Draws frame <paramref name="frameIndex"/> (0-based) over the whole canvas.</summary>
    void DrawFrame(Segment segment, int frameIndex, SKCanvas canvas);
}
