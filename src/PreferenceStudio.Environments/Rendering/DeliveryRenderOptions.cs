namespace PreferenceStudio.Environments.Rendering;

/// <summary>Size and timing of delivery gridworld clips.</summary>
/// <remarks>The defaults make a 3-move clip 4 + 18 + 6 = 28 frames, about 1.9 s at 15 fps.</remarks>
public sealed record DeliveryRenderOptions
{
    public int Width { get; init; } = FrameRenderers.DefaultSize;
    public int Height { get; init; } = FrameRenderers.DefaultSize;

    /// <summary>Frames that animate one move; the last of them shows the agent in the new cell.</summary>
    public int FramesPerMove { get; init; } = 6;

    /// <summary>Frames showing the start state before the first move, so the rater sees where the agent begins.</summary>
    public int HoldStartFrames { get; init; } = 4;

    /// <summary>Frames showing the final state and the whole path.</summary>
    public int HoldEndFrames { get; init; } = 6;

    public double FrameRate { get; init; } = 15;

    /// <exception cref="ArgumentException">A size or count is out of range.</exception>
    public DeliveryRenderOptions Validated()
    {
        if (Width < 16 || Height < 16) throw new ArgumentException($"Clip size must be at least 16 x 16; got {Width} x {Height}.");
        if (FramesPerMove < 1) throw new ArgumentException($"FramesPerMove must be >= 1; got {FramesPerMove}.");
        if (HoldStartFrames < 0 || HoldEndFrames < 0) throw new ArgumentException("Hold frame counts must be >= 0.");
        if (HoldStartFrames + HoldEndFrames < 1) throw new ArgumentException("At least one hold frame is needed so an empty segment still has a frame.");
        if (!(FrameRate > 0) || double.IsInfinity(FrameRate)) throw new ArgumentException($"FrameRate must be a positive number; got {FrameRate}.");
        return this;
    }
}
