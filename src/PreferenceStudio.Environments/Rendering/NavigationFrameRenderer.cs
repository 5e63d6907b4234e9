using System.Globalization;
using PreferenceStudio.Environments.Control;
using SkiaSharp;

namespace PreferenceStudio.Environments.Rendering;

/// <summary>
/// Draws multi-goal navigation clips: the maze, each goal as a coloured disc the size of its success region
/// (A green, B purple, C orange, D teal; ringed in white while the agent is inside), the agent with an arrow for the
/// force it applies, and a fading trail of where it has been. One frame per step.
/// </summary>
public sealed class NavigationFrameRenderer : IFrameRenderer, ILegend
{
    // Bump this whenever the drawing changes, so content-addressed clips are rendered again.
    private const string DrawingVersion = "2";
    private const int TrailLength = 30, TrailShades = 6;

    /// <summary>Goal colours in kind order, shared with pages that name the kinds.</summary>
    public static readonly SKColor[] GoalColours =
    [
        new(0x2E, 0xA0, 0x4B), new(0x8E, 0x44, 0xAD), new(0xE6, 0x7E, 0x22), new(0x16, 0xA0, 0x85),
    ];

    public static readonly SKColor AgentColour = new(0x1F, 0x5F, 0xE0);

    private readonly MultiGoalNavigation _env;
    private readonly ControlRenderOptions _options;
    private readonly float _cell, _left, _top;
    private readonly SKImage _board;
    private readonly SKPaint _background, _agent, _agentRim, _force, _inside;
    private readonly SKPaint[] _trail = new SKPaint[TrailShades];

    public NavigationFrameRenderer(MultiGoalNavigation env, ControlRenderOptions? options = null)
    {
        _env = env;
        _options = (options ?? new ControlRenderOptions()).Validated();
        var maze = env.Maze;
        _cell = Math.Min(_options.Width / (float)maze.Cols, _options.Height / (float)maze.Rows);
        _left = (_options.Width - _cell * maze.Cols) / 2;
        _top = (_options.Height - _cell * maze.Rows) / 2;

        _background = new SKPaint { Color = new SKColor(0x2B, 0x2D, 0x31) };
        _agent = new SKPaint { Color = AgentColour, IsAntialias = true };
        _agentRim = new SKPaint { Color = SKColors.White, IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeWidth = Math.Max(1, 0.05f * _cell) };
        _force = new SKPaint { Color = new SKColor(0xE8, 0x3A, 0x1A), IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeWidth = Math.Max(1.5f, 0.08f * _cell), StrokeCap = SKStrokeCap.Round };
        _inside = new SKPaint { Color = SKColors.White, IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeWidth = Math.Max(1.5f, 0.1f * _cell) };
        for (int i = 0; i < TrailShades; i++)
            _trail[i] = new SKPaint
            {
                Color = AgentColour.WithAlpha((byte)(200 * (i + 1) / TrailShades)), IsAntialias = true,
                Style = SKPaintStyle.Stroke, StrokeWidth = Math.Max(1.5f, 0.12f * _cell), StrokeCap = SKStrokeCap.Round,
            };
        using (var picture = RecordBoard())
            _board = StaticLayer.Rasterise(Width, Height, canvas =>
            {
                canvas.DrawPaint(_background);
                canvas.DrawPicture(picture);
            });
        SettingsKey = string.Create(CultureInfo.InvariantCulture,
            $"multi-goal-nav/v{DrawingVersion}/{_options.Key}/maze-{maze.Name}/goals{env.GoalCount}");
    }

    public int Width => _options.Width;
    public int Height => _options.Height;
    public double FrameRate => _options.FrameRate;
    public string SettingsKey { get; }

    public int FrameCount(Segment segment) => _options.FrameCount(segment);

    /// <summary>The maze with its goals and the agent pushing, with what each mark means.</summary>
    public IReadOnlyList<LegendItem> Legend()
    {
        var start = _env.SampleStart(new Random(3));
        var frame = LegendPictures.Frame(this, new Segment([start, start], [[0.8, -0.6]]), 0);
        var goals = string.Join("; ", Enumerable.Range(0, _env.GoalCount).Select(k => $"goal {(char)('A' + k)} is the {GoalColourNames[k % GoalColourNames.Length]} disc"));
        return
        [
            new("Agent and maze", "The blue agent moves through the maze and cannot pass the walls; the fading line is where it has been.", frame),
            new("Goals", $"Each goal is a coloured disc the size of its target area ({goals}); a white ring shows the agent is inside one.", frame),
            new("Force", "The red arrow from the agent is the push applied at this moment: the longer, the stronger.", frame),
        ];
    }

    private static readonly string[] GoalColourNames = ["green", "purple", "orange", "teal"];

    public void DrawFrame(Segment segment, int frameIndex, SKCanvas canvas)
    {
        int t = _options.StateAt(segment, frameIndex);
        var state = segment.States[t];
        canvas.DrawImage(_board, 0, 0, SKSamplingOptions.Default);

        for (int k = 0; k < _env.GoalCount; k++)
            if (_env.IsSuccess(k, state))
            {
                var (gx, gy) = _env.Goal(k);
                canvas.DrawCircle(ToScreen(gx, gy), (float)MultiGoalNavigation.SuccessRadius * _cell, _inside);
            }

        // Older trail pieces are fainter; pieces share a shade in runs so a few paints cover the whole trail.
        for (int i = Math.Max(1, t - TrailLength + 1); i <= t; i++)
        {
            int age = t - i;
            var paint = _trail[TrailShades - 1 - age * TrailShades / TrailLength];
            var a = ToScreen(segment.States[i - 1][0], segment.States[i - 1][1]);
            var b = ToScreen(segment.States[i][0], segment.States[i][1]);
            canvas.DrawLine(a, b, paint);
        }

        var at = ToScreen(state[0], state[1]);
        // Drawn a little larger than the collision square so it reads at small sizes.
        float r = Math.Max(3, 0.22f * _cell);
        canvas.DrawCircle(at, r, _agent);
        canvas.DrawCircle(at, r, _agentRim);
        if (t < segment.Actions.Length) DrawForce(at, segment.Actions[t], canvas);
    }

    /// <summary>An arrow from the agent's centre: one cell long at full force on an axis.</summary>
    private void DrawForce(SKPoint at, double[] action, SKCanvas canvas)
    {
        float fx = (float)Math.Clamp(action[0], -1, 1), fy = (float)Math.Clamp(action[1], -1, 1);
        float length = MathF.Sqrt(fx * fx + fy * fy);
        if (length < 1e-3f) return;
        var tip = new SKPoint(at.X + fx * _cell, at.Y + fy * _cell);
        canvas.DrawLine(at, tip, _force);
        float head = 0.25f * _cell * Math.Min(1, length);
        float ux = fx / length, uy = fy / length;
        canvas.DrawLine(tip.X, tip.Y, tip.X - head * (ux - 0.6f * uy), tip.Y - head * (uy + 0.6f * ux), _force);
        canvas.DrawLine(tip.X, tip.Y, tip.X - head * (ux + 0.6f * uy), tip.Y - head * (uy - 0.6f * ux), _force);
    }

    private SKPoint ToScreen(double x, double y) => new(_left + (float)x * _cell, _top + (float)y * _cell);

    private SKPicture RecordBoard()
    {
        var maze = _env.Maze;
        using var recorder = new SKPictureRecorder();
        var canvas = recorder.BeginRecording(new SKRect(0, 0, Width, Height));
        using var floor = new SKPaint { Color = new SKColor(0xEE, 0xEB, 0xE3) };
        using var wall = new SKPaint { Color = new SKColor(0x3A, 0x3F, 0x4A) };
        using var grid = new SKPaint { Color = new SKColor(0xDD, 0xD8, 0xCB), Style = SKPaintStyle.Stroke, StrokeWidth = 1 };
        for (int r = 0; r < maze.Rows; r++)
            for (int c = 0; c < maze.Cols; c++)
            {
                var rect = SKRect.Create(_left + c * _cell, _top + r * _cell, _cell, _cell);
                canvas.DrawRect(rect, maze.IsWall(r, c) ? wall : floor);
                if (!maze.IsWall(r, c)) canvas.DrawRect(rect, grid);
            }
        using var region = new SKPaint { IsAntialias = true };
        using var centre = new SKPaint { IsAntialias = true };
        for (int k = 0; k < _env.GoalCount; k++)
        {
            var (gx, gy) = _env.Goal(k);
            var p = ToScreen(gx, gy);
            region.Color = GoalColours[k].WithAlpha(110);
            centre.Color = GoalColours[k];
            canvas.DrawCircle(p, (float)MultiGoalNavigation.SuccessRadius * _cell, region);
            DrawMarker(canvas, k, p, 0.22f * _cell, centre);
        }
        return recorder.EndRecording();
    }

    /// <summary>A distinct shape per goal, so the goals differ for raters who do not tell the colours apart.</summary>
    private static void DrawMarker(SKCanvas canvas, int kind, SKPoint p, float s, SKPaint paint)
    {
        switch (kind)
        {
            case 0: canvas.DrawCircle(p, s, paint); break;
            case 1: canvas.DrawRect(p.X - s, p.Y - s, 2 * s, 2 * s, paint); break;
            default:
                using (var builder = new SKPathBuilder())
                {
                    if (kind == 2) { builder.MoveTo(p.X, p.Y - s); builder.LineTo(p.X + s, p.Y + s); builder.LineTo(p.X - s, p.Y + s); }
                    else { builder.MoveTo(p.X, p.Y - s); builder.LineTo(p.X + s, p.Y); builder.LineTo(p.X, p.Y + s); builder.LineTo(p.X - s, p.Y); }
                    builder.Close();
                    using var path = builder.Detach();
                    canvas.DrawPath(path, paint);
                }
                break;
        }
    }
}
