using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Delivery;
using PreferenceStudio.Environments.Rendering;
using SkiaSharp;

namespace PreferenceStudio.Tests.Environments;

public class DeliveryFrameRendererTests
{
    private static readonly SKColor AgentBlue = new(0x1F, 0x5F, 0xE0);

    // (2,3) right to (2,4), bump into the house at (3,4), right to (2,5).
    private static readonly Segment ThreeMoves = Segment.Discrete([[2, 3], [2, 4], [2, 4], [2, 5]], [3, 1, 3]);

    private static SKBitmap Draw(IFrameRenderer renderer, Segment segment, int frame)
    {
        var bitmap = new SKBitmap(new SKImageInfo(renderer.Width, renderer.Height, SKColorType.Bgra8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(bitmap);
        renderer.DrawFrame(segment, frame, canvas);
        return bitmap;
    }

    // The default 256 px board: 2 px padding, cells of 25.2 px.
    private static SKColor At(SKBitmap bitmap, double row, double col) =>
        bitmap.GetPixel((int)(2 + (col + 0.5) * 25.2), (int)(2 + (row + 0.5) * 25.2));

    [Fact]
    public void Frame_count_is_the_holds_plus_six_frames_per_move()
    {
        var renderer = FrameRenderers.For(DeliveryGridworld.Standard);
        Assert.Equal(4 + 3 * 6 + 6, renderer.FrameCount(ThreeMoves));
        Assert.Equal(10, renderer.FrameCount(Segment.Discrete([[2, 3]], [])));
        Assert.InRange(renderer.FrameCount(ThreeMoves) / renderer.FrameRate, 1.5, 2.0);
    }

    [Fact]
    public void The_agent_starts_at_the_first_state_and_ends_at_the_last()
    {
        var renderer = FrameRenderers.For(DeliveryGridworld.Standard);
        using var first = Draw(renderer, ThreeMoves, 0);
        using var last = Draw(renderer, ThreeMoves, renderer.FrameCount(ThreeMoves) - 1);

        Assert.Equal(AgentBlue, At(first, 2, 3));
        Assert.NotEqual(AgentBlue, At(first, 2, 5));
        Assert.Equal(AgentBlue, At(last, 2, 5));
        Assert.NotEqual(AgentBlue, At(last, 2, 3));
    }

    [Fact]
    public void Frames_are_deterministic_and_animation_changes_them()
    {
        var renderer = FrameRenderers.For(DeliveryGridworld.Standard);
        using var a = Draw(renderer, ThreeMoves, 6);
        using var b = Draw(renderer, ThreeMoves, 6);
        using var c = Draw(renderer, ThreeMoves, 7);

        Assert.True(a.GetPixelSpan().SequenceEqual(b.GetPixelSpan()));
        Assert.False(a.GetPixelSpan().SequenceEqual(c.GetPixelSpan()));
    }

    [Fact]
    public void Size_is_a_parameter_and_part_of_the_settings_key()
    {
        var small = FrameRenderers.For(DeliveryGridworld.Standard, 128, 96);
        var standard = FrameRenderers.For(DeliveryGridworld.Standard);

        Assert.Equal((128, 96), (small.Width, small.Height));
        Assert.Equal((256, 256), (standard.Width, standard.Height));
        Assert.NotEqual(small.SettingsKey, standard.SettingsKey);
        Assert.Throws<ArgumentOutOfRangeException>(() => Draw(standard, ThreeMoves, standard.FrameCount(ThreeMoves)));
    }

    [Fact]
    public void Environments_without_a_renderer_are_reported()
    {
        var e = Assert.Throws<NotSupportedException>(() => FrameRenderers.For(new NoPicturesEnvironment()));
        Assert.Contains("no-pictures", e.Message);
        Assert.False(FrameRenderers.TryFor(new NoPicturesEnvironment(), out _));
    }

    private sealed class NoPicturesEnvironment : IPreferenceEnvironment
    {
        public string Name => "no-pictures";
        public string DisplayName => "No pictures";
        public ActionSpace ActionSpace { get; } = ActionSpace.Discrete("stay");
        public IReadOnlyList<RewardFactor> Factors => [];
        public int FeatureSize => 1;
        public IReadOnlyList<string> FeatureNames => ["one"];
        public int DefaultSegmentLength => 1;
        public int MaxEpisodeSteps => 1;
        public double[] SampleStart(Random rng) => [0];
        public bool IsTerminal(double[] state) => false;
        public Transition Step(double[] state, double[] action) => new(state, 0, false);
        public float[] StepFeatures(double[] state, double[] action, double[] next) => [1];
        public double[] StepFactors(double[] state, double[] action, double[] next) => [];
        public string? ValidateState(double[] state) => null;
    }
}
