using PreferenceStudio.Core.Media;
using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Control;
using PreferenceStudio.Environments.Rendering;
using SkiaSharp;

namespace PreferenceStudio.Tests.Environments;

public sealed class ControlRendererTests : IDisposable
{
    private static readonly SKColor PendulumBob = new(0x8C, 0x2A, 0x2A);
    private static readonly SKColor FlagWaiting = new(0xF2, 0xC2, 0x1B);
    private static readonly SKColor FlagReached = new(0x2E, 0xA0, 0x4B);

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "ps-control-clips-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    public static TheoryData<string> Controls => new() { Pendulum.EnvironmentName, MountainCar.EnvironmentName, MultiGoalNavigation.EnvironmentName };

    private static SKBitmap Draw(IFrameRenderer renderer, Segment segment, int frame)
    {
        var bitmap = new SKBitmap(new SKImageInfo(renderer.Width, renderer.Height, SKColorType.Bgra8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(bitmap);
        renderer.DrawFrame(segment, frame, canvas);
        return bitmap;
    }

    [Theory]
    [MemberData(nameof(Controls))]
    public void Frames_have_the_requested_size_one_per_step_plus_holds(string name)
    {
        var env = EnvironmentRegistry.Get(name);
        var segment = PendulumTests.Rollout(env, 12, seed: 3);
        var renderer = FrameRenderers.For(env, 128, 96);

        Assert.Equal(4 + 12 + 6, renderer.FrameCount(segment));
        using var frame = Draw(renderer, segment, renderer.FrameCount(segment) - 1);
        Assert.Equal((128, 96), (frame.Width, frame.Height));
        Assert.NotEqual(renderer.SettingsKey, FrameRenderers.For(env).SettingsKey);
        Assert.Throws<ArgumentOutOfRangeException>(() => Draw(renderer, segment, renderer.FrameCount(segment)));
    }

    [Theory]
    [MemberData(nameof(Controls))]
    public void Frames_are_deterministic_and_follow_the_states(string name)
    {
        var env = EnvironmentRegistry.Get(name);
        var segment = PendulumTests.Rollout(env, 12, seed: 5);
        var renderer = FrameRenderers.For(env);
        using var a = Draw(renderer, segment, 8);
        using var b = Draw(renderer, segment, 8);
        using var c = Draw(renderer, segment, 9);
        using var held = Draw(renderer, segment, 0);
        using var heldToo = Draw(renderer, segment, 3);

        Assert.True(a.GetPixelSpan().SequenceEqual(b.GetPixelSpan()));
        Assert.False(a.GetPixelSpan().SequenceEqual(c.GetPixelSpan()));
        Assert.True(held.GetPixelSpan().SequenceEqual(heldToo.GetPixelSpan()));
    }

    [Theory]
    [MemberData(nameof(Controls))]
    public void A_short_clip_encodes_to_video_with_one_frame_per_rendered_frame(string name)
    {
        var env = EnvironmentRegistry.Get(name);
        var segment = PendulumTests.Rollout(env, 10, seed: 1);
        var renderer = FrameRenderers.For(env);

        var clip = new ClipEncoder(_folder).Encode(segment, renderer);
        var probe = Ffprobe.Probe(clip.Path);

        Assert.Equal("h264", probe.Codec);
        Assert.Equal((256, 256), (probe.Width, probe.Height));
        Assert.Equal(4 + 10 + 6, probe.Frames);
    }

    [Fact]
    public void The_pendulum_bob_is_drawn_above_the_pivot_when_upright_and_below_when_hanging()
    {
        var env = new Pendulum();
        var renderer = FrameRenderers.For(env);
        // Both states are equilibria: with no torque they stay put.
        var upright = new Segment([[0, 0], env.Step([0, 0], [0]).Next], [[0]]);
        var hanging = new Segment([[Math.PI, 0], [Math.PI, 0]], [[0]]);
        Assert.Null(((IPreferenceEnvironment)env).ValidateSegment(upright));

        using var up = Draw(renderer, upright, 0);
        using var down = Draw(renderer, hanging, 0);
        float rod = 0.36f * 256;
        Assert.Equal(PendulumBob, up.GetPixel(128, (int)(128 - rod)));
        Assert.NotEqual(PendulumBob, up.GetPixel(128, (int)(128 + rod)));
        Assert.Equal(PendulumBob, down.GetPixel(128, (int)(128 + rod)));
    }

    [Fact]
    public void The_mountain_car_flag_turns_green_once_the_car_is_there()
    {
        var env = new MountainCar();
        var renderer = FrameRenderers.For(env);
        var arrive = new Segment([[0.44, 0.03], env.Step([0.44, 0.03], [1]).Next], [[1]]);
        Assert.True(env.IsTerminal(arrive.States[1]));

        using var before = Draw(renderer, arrive, 0);
        using var after = Draw(renderer, arrive, renderer.FrameCount(arrive) - 1);
        Assert.True(Count(before, FlagWaiting) > 5 && Count(before, FlagReached) == 0);
        Assert.True(Count(after, FlagReached) > 5 && Count(after, FlagWaiting) == 0);
    }

    [Fact]
    public void The_navigation_agent_is_drawn_where_the_state_puts_it()
    {
        var env = new MultiGoalNavigation(MazeLayout.Large);
        var renderer = FrameRenderers.For(env);
        // Row 3 of the large maze is open from column 1 to 6: push right along it.
        var states = new List<double[]> { new[] { 1.5, 3.5, 0, 0 } };
        for (int t = 0; t < 12; t++) states.Add(env.Step(states[^1], [1, 0]).Next);
        var segment = new Segment(states.ToArray(), Enumerable.Repeat(new double[] { 1, 0 }, 12).ToArray());
        Assert.InRange(states[^1][0], 3, 4.5);

        using var last = Draw(renderer, segment, renderer.FrameCount(segment) - 1);
        // 256 / 12 px cells, the 9-row maze centred vertically.
        float cell = 256f / 12, top = (256 - 9 * cell) / 2;
        SKColor At(double x, double y) => last.GetPixel((int)(x * cell), (int)(top + y * cell));
        Assert.Equal(NavigationFrameRenderer.AgentColour, At(states[^1][0], 3.5));
        Assert.NotEqual(NavigationFrameRenderer.AgentColour, At(1.5, 3.5));
        Assert.Equal(NavigationFrameRenderer.GoalColours[0], At(10.5, 1.5));
        Assert.Equal(NavigationFrameRenderer.GoalColours[1], At(1.5, 7.5));
    }

    private static int Count(SKBitmap bitmap, SKColor colour)
    {
        int n = 0;
        for (int y = 0; y < bitmap.Height; y++)
            for (int x = 0; x < bitmap.Width; x++)
                if (bitmap.GetPixel(x, y) == colour) n++;
        return n;
    }
}
