using PreferenceStudio.Environments.Control;
using SkiaSharp;

namespace PreferenceStudio.Environments.Rendering;

/// <summary>
/// Draws pendulum clips: the rod and bob (upright = the goal, marked by a faint line), a fading ghost of the
/// bob's recent positions, and the torque being applied as an orange arc around the pivot (longer = stronger,
/// arrowhead = direction). One frame per step: at the default 20 fps the clip plays in real time (dt 0.05).
/// </summary>
public sealed class PendulumFrameRenderer : IFrameRenderer, ILegend
{
    // Bump this whenever the drawing changes, so content-addressed clips are rendered again.
    private const string DrawingVersion = "1";
    private const int TrailLength = 8;

    private readonly ControlRenderOptions _options;
    private readonly float _cx, _cy, _rod, _bob, _arc;
    private readonly SKPaint _background, _target, _rodPaint, _bobPaint, _pivot, _torque, _dial;
    private readonly SKPaint[] _trail = new SKPaint[TrailLength];
    private readonly SKImage _still;

    public PendulumFrameRenderer(ControlRenderOptions? options = null)
    {
        _options = (options ?? new ControlRenderOptions()).Validated();
        float size = Math.Min(_options.Width, _options.Height);
        _cx = _options.Width / 2f;
        _cy = _options.Height / 2f;
        _rod = 0.36f * size;
        _bob = 0.06f * size;
        _arc = 0.16f * size;
        _background = new SKPaint { Color = new SKColor(0xF4, 0xF1, 0xEA) };
        _target = new SKPaint { Color = new SKColor(0x34, 0xA8, 0x53, 0x90), IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeWidth = Math.Max(1, 0.01f * size), PathEffect = SKPathEffect.CreateDash([0.03f * size, 0.02f * size], 0) };
        _rodPaint = new SKPaint { Color = new SKColor(0xCC, 0x4D, 0x4D), IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeWidth = Math.Max(2, 0.05f * size), StrokeCap = SKStrokeCap.Round };
        _bobPaint = new SKPaint { Color = new SKColor(0x8C, 0x2A, 0x2A), IsAntialias = true };
        _pivot = new SKPaint { Color = new SKColor(0x20, 0x20, 0x20), IsAntialias = true };
        _torque = new SKPaint { Color = new SKColor(0xE8, 0x8A, 0x1A), IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeWidth = Math.Max(2, 0.03f * size), StrokeCap = SKStrokeCap.Round };
        _dial = new SKPaint { Color = new SKColor(0xD5, 0xD0, 0xC4), IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeWidth = Math.Max(1, 0.008f * size) };
        for (int i = 0; i < TrailLength; i++)
            _trail[i] = new SKPaint { Color = new SKColor(0x8C, 0x2A, 0x2A, (byte)(70 * (i + 1) / TrailLength)), IsAntialias = true };
        SettingsKey = $"pendulum/v{DrawingVersion}/{_options.Key}";
        // What every frame shows the same (background, dial, dashed goal line), drawn once: the dash path effect and
        // the anti-aliased circle cost more per frame than copying the finished pixels (bench render).
        using var still = new SKBitmap(new SKImageInfo(_options.Width, _options.Height, SKColorType.Bgra8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(still)) DrawStill(canvas);
        _still = SKImage.FromBitmap(still);
    }

    private void DrawStill(SKCanvas canvas)
    {
        canvas.DrawPaint(_background);
        canvas.DrawCircle(_cx, _cy, _rod, _dial);
        canvas.DrawLine(_cx, _cy, _cx, _cy - _rod - _bob, _target);
    }

    public int Width => _options.Width;
    public int Height => _options.Height;
    public double FrameRate => _options.FrameRate;
    public string SettingsKey { get; }

    public int FrameCount(Segment segment) => _options.FrameCount(segment);

    public void DrawFrame(Segment segment, int frameIndex, SKCanvas canvas)
    {
        int t = _options.StateAt(segment, frameIndex);
        canvas.DrawImage(_still, 0, 0, new SKSamplingOptions(SKFilterMode.Nearest));

        // The bob's last few positions, fainter the older they are, so the swing's speed is visible in a still frame.
        for (int k = TrailLength; k >= 1; k--)
        {
            if (t - k < 0) continue;
            var (tx, ty) = BobAt(segment.States[t - k][0]);
            canvas.DrawCircle(tx, ty, _bob * 0.8f, _trail[TrailLength - k]);
        }

        if (t < segment.Actions.Length) DrawTorque(Math.Clamp(segment.Actions[t][0], -Pendulum.MaxTorque, Pendulum.MaxTorque), canvas);
        var (x, y) = BobAt(segment.States[t][0]);
        canvas.DrawLine(_cx, _cy, x, y, _rodPaint);
        canvas.DrawCircle(x, y, _bob, _bobPaint);
        canvas.DrawCircle(_cx, _cy, _bob * 0.45f, _pivot);
    }

    /// <summary>One frame of a pendulum swinging up under torque, with what its marks mean.</summary>
    public IReadOnlyList<LegendItem> Legend()
    {
        var swing = new Segment([[2.2, 1.0], [2.25, 1.1], [2.3, 1.2], [2.36, 1.3], [2.43, 1.4], [2.5, 1.5], [2.58, 1.6], [2.66, 1.7], [2.75, 1.8], [2.84, 1.9]],
            [[1.6], [1.6], [1.6], [1.6], [1.6], [1.6], [1.6], [1.6], [1.6]]);
        var frame = LegendPictures.Frame(this, swing, Math.Min(8, FrameCount(swing) - 1));
        return
        [
            new("Pendulum", "The red rod and bob swing around the black pivot; the faint dots are where the bob was a moment ago. The dashed line straight up is the goal: upright and still.", frame),
            new("Torque", "The orange arc around the pivot is the push applied at this moment: the longer the arc, the stronger; the arrowhead shows the direction.", frame),
        ];
    }

    /// <summary>Theta 0 is upright and positive theta turns counter-clockwise on screen, as in Gymnasium's picture.</summary>
    private (float X, float Y) BobAt(double theta) =>
        (_cx - _rod * (float)Math.Sin(theta), _cy - _rod * (float)Math.Cos(theta));

    private void DrawTorque(double u, SKCanvas canvas)
    {
        if (u == 0) return;
        // Up to 270 degrees at full torque; positive torque turns counter-clockwise (negative sweep on screen).
        float sweep = (float)(-u / Pendulum.MaxTorque * 270);
        const float start = 90; // below the pivot, out of the rod's way when it is upright
        var rect = new SKRect(_cx - _arc, _cy - _arc, _cx + _arc, _cy + _arc);
        canvas.DrawArc(rect, start, sweep, false, _torque);
        double end = (start + sweep) * Math.PI / 180;
        float ex = _cx + _arc * (float)Math.Cos(end), ey = _cy + _arc * (float)Math.Sin(end);
        // Arrowhead: two strokes back from the tip, along the tangent of travel.
        double dir = end + Math.Sign(sweep) * Math.PI / 2;
        float head = 0.45f * _arc;
        for (int side = -1; side <= 1; side += 2)
        {
            double a = dir + Math.PI + side * 0.5;
            canvas.DrawLine(ex, ey, ex + head * (float)Math.Cos(a), ey + head * (float)Math.Sin(a), _torque);
        }
    }
}
