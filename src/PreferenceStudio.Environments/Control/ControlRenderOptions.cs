namespace PreferenceStudio.Environments.Rendering;

/// <summary>
/// Size and timing of the control tasks' clips (pendulum, mountain car, navigation): one frame per state, with the
/// start and end states held a little so a rater sees where the segment begins and ends.
/// </summary>
public sealed record ControlRenderOptions
{
    public int Width { get; init; } = FrameRenderers.DefaultSize;
    public int Height { get; init; } = FrameRenderers.DefaultSize;

    /// <summary>Extra frames showing the start state before the first step.</summary>
    public int HoldStartFrames { get; init; } = 4;

    /// <summary>Extra frames showing the final state.</summary>
    public int HoldEndFrames { get; init; } = 6;

    public double FrameRate { get; init; } = 20;

    /// <exception cref="ArgumentException">A size or count is out of range.</exception>
    public ControlRenderOptions Validated()
    {
        if (Width < 16 || Height < 16) throw new ArgumentException($"Clip size must be at least 16 x 16; got {Width} x {Height}.");
        if (HoldStartFrames < 0 || HoldEndFrames < 0) throw new ArgumentException("Hold frame counts must be >= 0.");
        if (!(FrameRate > 0) || double.IsInfinity(FrameRate)) throw new ArgumentException($"FrameRate must be a positive number; got {FrameRate}.");
        return this;
    }

    /// <summary>Frames of a segment's clip: the holds plus one per state after the first (so an empty segment still has one).</summary>
    public int FrameCount(Segment segment) => HoldStartFrames + Math.Max(segment.Actions.Length, 1) + HoldEndFrames;

    /// <summary>Index of the state frame <paramref name="frameIndex"/> shows.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The clip has no such frame.</exception>
    public int StateAt(Segment segment, int frameIndex)
    {
        int count = FrameCount(segment);
        if (frameIndex < 0 || frameIndex >= count)
            throw new ArgumentOutOfRangeException(nameof(frameIndex), frameIndex, $"The clip has frames 0..{count - 1}.");
        int n = segment.Actions.Length;
        return Math.Clamp(frameIndex - HoldStartFrames + 1, 0, n);
    }

    /// <summary>The settings part of a renderer's SettingsKey.</summary>
    public string Key => FormattableString.Invariant($"{Width}x{Height}/hold{HoldStartFrames}-{HoldEndFrames}/fps{FrameRate:R}");
}
