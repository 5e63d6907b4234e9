using PreferenceStudio.Environments.Control;
using SkiaSharp;

namespace PreferenceStudio.Environments.Rendering;

/// <summary>
/// Draws mountain-car clips: the hill (Gymnasium's sin(3x) track), the flag at the goal (turning green once the car
/// is there), the car tilted with the slope, a fading trail of its recent positions, and the applied force as an
/// orange arrow along the track (longer = stronger). One frame per step.
/// </summary>
public sealed class MountainCarFrameRenderer : IFrameRenderer, ILegend
{
    // Bump this whenever the drawing changes, so content-addressed clips are rendered again.
    private const string DrawingVersion = "1";
    private const int TrailLength = 12;
    private const float CarWidth = 0.2f, CarHeight = 0.08f, Clearance = 0.025f, PoleHeight = 0.16f;

    private readonly ControlRenderOptions _options;
    private readonly float _scale, _left, _mid;
    private readonly SKPath _hill, _track, _pennant;
    private readonly SKPoint _flagFoot;
    private readonly Lazy<SKImage> _scenery;
    private readonly SKPaint _sky, _ground, _trackPaint, _pole, _flag, _flagReached, _body, _wheel, _force;
    private readonly SKPaint[] _trail = new SKPaint[TrailLength];

    public MountainCarFrameRenderer(ControlRenderOptions? options = null)
    {
        _options = (options ?? new ControlRenderOptions { FrameRate = 30 }).Validated();
        float pad = 0.04f * _options.Width;
        _scale = Math.Min((_options.Width - 2 * pad) / (float)(MountainCar.MaxPosition - MountainCar.MinPosition), _options.Height / 1.3f);
        _left = (_options.Width - _scale * (float)(MountainCar.MaxPosition - MountainCar.MinPosition)) / 2;
        _mid = _options.Height * 0.55f;

        // The track spans [-1.2, 0.6] only, as in Gymnasium; the ground below it is filled down to the bottom edge.
        using (var hill = new SKPathBuilder())
        using (var track = new SKPathBuilder())
        {
            const int samples = 120;
            for (int i = 0; i <= samples; i++)
            {
                double x = MountainCar.MinPosition + (MountainCar.MaxPosition - MountainCar.MinPosition) * i / samples;
                var p = ToScreen(x, MountainCar.Height(x));
                if (i == 0) { hill.MoveTo(p.X, _options.Height); hill.LineTo(p); track.MoveTo(p); }
                else { hill.LineTo(p); track.LineTo(p); }
                if (i == samples) hill.LineTo(p.X, _options.Height);
            }
            hill.Close();
            _hill = hill.Detach();
            _track = track.Detach();
        }
        var foot = ToScreen(MountainCar.GoalPosition, MountainCar.Height(MountainCar.GoalPosition));
        float top = foot.Y - PoleHeight * _scale;
        using (var pennant = new SKPathBuilder())
        {
            pennant.MoveTo(foot.X, top);
            pennant.LineTo(foot.X + 0.1f * _scale, top + 0.025f * _scale);
            pennant.LineTo(foot.X, top + 0.05f * _scale);
            pennant.Close();
            _pennant = pennant.Detach();
        }
        _flagFoot = foot;

        float unit = _scale / 100;
        _sky = new SKPaint { Color = new SKColor(0xE9, 0xF1, 0xF7) };
        _ground = new SKPaint { Color = new SKColor(0xB9, 0xCF, 0x9A), IsAntialias = true };
        _trackPaint = new SKPaint { Color = new SKColor(0x4A, 0x5A, 0x3A), IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeWidth = Math.Max(1.5f, 1.5f * unit) };
        _pole = new SKPaint { Color = new SKColor(0x30, 0x30, 0x30), IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeWidth = Math.Max(1.5f, 1.2f * unit) };
        _flag = new SKPaint { Color = new SKColor(0xF2, 0xC2, 0x1B), IsAntialias = true };
        _flagReached = new SKPaint { Color = new SKColor(0x2E, 0xA0, 0x4B), IsAntialias = true };
        _body = new SKPaint { Color = new SKColor(0x1F, 0x5F, 0xE0), IsAntialias = true };
        _wheel = new SKPaint { Color = new SKColor(0x25, 0x25, 0x25), IsAntialias = true };
        _force = new SKPaint { Color = new SKColor(0xE8, 0x6A, 0x1A), IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeWidth = Math.Max(2, 2.2f * unit), StrokeCap = SKStrokeCap.Round };
        for (int i = 0; i < TrailLength; i++)
            _trail[i] = new SKPaint { Color = new SKColor(0x1F, 0x5F, 0xE0, (byte)(90 * (i + 1) / TrailLength)), IsAntialias = true };
        _scenery = new Lazy<SKImage>(DrawScenery);
        SettingsKey = $"mountain-car/v{DrawingVersion}/{_options.Key}";
    }

    public int Width => _options.Width;
    public int Height => _options.Height;
    public double FrameRate => _options.FrameRate;
    public string SettingsKey { get; }

    public int FrameCount(Segment segment) => _options.FrameCount(segment);

    /// <summary>One frame of the car pushing up the hill, with what its marks mean.</summary>
    public IReadOnlyList<LegendItem> Legend()
    {
        var climb = new Segment([[-0.9, 0.01], [-0.88, 0.015], [-0.86, 0.02]], [[0.9], [0.9]]);
        var frame = LegendPictures.Frame(this, climb, 1);
        return
        [
            new("Car and hill", "The car drives along the valley; the flag on the right hilltop is the goal (it turns green once the car gets there). The dots are where the car was a moment ago.", frame),
            new("Force", "The orange arrow along the track is the push applied at this moment: the longer, the stronger, which costs fuel.", frame),
        ];
    }

    public void DrawFrame(Segment segment, int frameIndex, SKCanvas canvas)
    {
        int t = _options.StateAt(segment, frameIndex);
        var state = segment.States[t];
        canvas.DrawImage(_scenery.Value, 0, 0, default(SKSamplingOptions), null);

        float dot = 0.012f * _scale;
        for (int k = TrailLength; k >= 1; k--)
        {
            if (t - k < 0) continue;
            double x = segment.States[t - k][0];
            canvas.DrawCircle(ToScreen(x, MountainCar.Height(x)), dot, _trail[TrailLength - k]);
        }

        double position = state[0];
        var at = ToScreen(position, MountainCar.Height(position));
        // Tilt with the slope; screen y grows downward, hence the minus.
        float angle = -(float)Math.Atan(1.35 * Math.Cos(3 * position));
        canvas.Save();
        canvas.Translate(at.X, at.Y);
        canvas.RotateRadians(angle);
        float w = CarWidth * _scale, h = CarHeight * _scale, c = Clearance * _scale;
        canvas.DrawRoundRect(new SKRect(-w / 2, -c - h, w / 2, -c), 0.2f * h, 0.2f * h, _body);
        canvas.DrawCircle(-w / 3, -c, c, _wheel);
        canvas.DrawCircle(w / 3, -c, c, _wheel);
        if (t < segment.Actions.Length) DrawForce(Math.Clamp(segment.Actions[t][0], -1, 1), -c - h / 2, w, canvas);
        canvas.Restore();

        // After the car, so the flag stays visible when the car reaches it.
        bool reached = state[0] >= MountainCar.GoalPosition && state[1] >= MountainCar.GoalVelocity;
        canvas.DrawLine(_flagFoot.X, _flagFoot.Y, _flagFoot.X, _flagFoot.Y - PoleHeight * _scale, _pole);
        canvas.DrawPath(_pennant, reached ? _flagReached : _flag);
    }

    /// <summary>An arrow along the car's axis from its centre: up to 1.5 car lengths at full force.</summary>
    private void DrawForce(double force, float y, float carWidth, SKCanvas canvas)
    {
        if (force == 0) return;
        float length = (float)force * 1.5f * carWidth;
        canvas.DrawLine(0, y, length, y, _force);
        float head = Math.Min(0.35f * carWidth, Math.Abs(length)) * Math.Sign(length);
        canvas.DrawLine(length, y, length - head, y - Math.Abs(head) * 0.6f, _force);
        canvas.DrawLine(length, y, length - head, y + Math.Abs(head) * 0.6f, _force);
    }

    /// <summary>Sky, hill and track rasterised once: filling the antialiased hill every frame cost more than the rest of the frame.</summary>
    private SKImage DrawScenery() => StaticLayer.Rasterise(Width, Height, canvas =>
    {
        canvas.DrawPaint(_sky);
        canvas.DrawPath(_hill, _ground);
        canvas.DrawPath(_track, _trackPaint);
    });

    private SKPoint ToScreen(double x, double height) =>
        new(_left + (float)(x - MountainCar.MinPosition) * _scale, _mid - (float)(height - 0.55) * _scale);
}
