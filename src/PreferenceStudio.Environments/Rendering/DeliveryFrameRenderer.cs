using System.Globalization;
using System.Security.Cryptography;
using PreferenceStudio.Environments.Delivery;
using SkiaSharp;

namespace PreferenceStudio.Environments.Rendering;

/// <summary>
/// Draws delivery gridworld clips: the board, the path so far and the agent, moving smoothly between cells.
/// A move that bumps into a house or the edge shows as a nudge toward the obstacle and a red tick at its edge.
/// </summary>
public sealed class DeliveryFrameRenderer : IFrameRenderer, ILegend
{
    // Bump this whenever the drawing changes, so content-addressed clips are rendered again.
    private const string DrawingVersion = "2";

    // Same order as the environment's actions: up, down, left, right, as (row, col).
    private static readonly (int Dr, int Dc)[] Moves = [(-1, 0), (1, 0), (0, -1), (0, 1)];

    private static readonly SKColor Background = new(0x2B, 0x2D, 0x31);
    private static readonly SKColor Road = new(0xDD, 0xD8, 0xCB);
    private static readonly SKColor RoadLine = new(0xBF, 0xB8, 0xA8);
    private static readonly SKColor Mud = new(0x8C, 0x6A, 0x45);
    private static readonly SKColor MudSpeck = new(0x6E, 0x51, 0x33);
    private static readonly SKColor Goal = new(0x34, 0xA8, 0x53);
    private static readonly SKColor CoinFill = new(0xF4, 0xC4, 0x30);
    private static readonly SKColor CoinRim = new(0xB0, 0x80, 0x10);
    private static readonly SKColor Barrier = new(0xE8, 0x6A, 0x1A);
    private static readonly SKColor HouseWall = new(0x5E, 0x6F, 0x88);
    private static readonly SKColor HouseRoof = new(0x3A, 0x45, 0x58);
    private static readonly SKColor SheepWool = new(0xFA, 0xFA, 0xF5);
    private static readonly SKColor SheepFace = new(0x25, 0x25, 0x25);
    private static readonly SKColor Agent = new(0x1F, 0x5F, 0xE0);
    private static readonly SKColor BumpMark = new(0xE0, 0x25, 0x25);

    private readonly DeliveryGridworld _board;
    private readonly DeliveryRenderOptions _options;
    private readonly float _cell, _left, _top;
    private readonly Lazy<SKImage> _boardImage;

    public DeliveryFrameRenderer(DeliveryGridworld board, DeliveryRenderOptions? options = null)
    {
        _board = board;
        _options = (options ?? new DeliveryRenderOptions()).Validated();
        const float padding = 2;
        _cell = Math.Min((_options.Width - 2 * padding) / board.Cols, (_options.Height - 2 * padding) / board.Rows);
        _left = (_options.Width - _cell * board.Cols) / 2;
        _top = (_options.Height - _cell * board.Rows) / 2;
        _boardImage = new Lazy<SKImage>(RasteriseBoard, LazyThreadSafetyMode.ExecutionAndPublication);
        SettingsKey = string.Create(CultureInfo.InvariantCulture,
            $"delivery/v{DrawingVersion}/{Width}x{Height}/fpm{_options.FramesPerMove}/hold{_options.HoldStartFrames}-{_options.HoldEndFrames}/fps{FrameRate:R}/board-{BoardHash(board)}");
    }

    public int Width => _options.Width;
    public int Height => _options.Height;
    public double FrameRate => _options.FrameRate;
    public string SettingsKey { get; }
    public DeliveryRenderOptions Options => _options;

    public int FrameCount(Segment segment) =>
        _options.HoldStartFrames + segment.Actions.Length * _options.FramesPerMove + _options.HoldEndFrames;

    public void DrawFrame(Segment segment, int frameIndex, SKCanvas canvas)
    {
        int count = FrameCount(segment);
        if (frameIndex < 0 || frameIndex >= count)
            throw new ArgumentOutOfRangeException(nameof(frameIndex), frameIndex, $"The clip has frames 0..{count - 1}.");
        var (move, progress) = Timeline(segment, frameIndex);

        canvas.DrawImage(_boardImage.Value, 0, 0, SKSamplingOptions.Default);
        DrawPath(segment, move, progress, canvas);
        DrawAgent(segment, move, progress, canvas);
    }

    /// <summary>Which move is under way at a frame and how far along it is (0..1); move = Length once all are done.</summary>
    private (int Move, float Progress) Timeline(Segment segment, int frameIndex)
    {
        int moving = frameIndex - _options.HoldStartFrames;
        if (moving < 0) return (0, 0);
        int n = segment.Actions.Length, fpm = _options.FramesPerMove;
        if (moving >= n * fpm) return (n, 0);
        return (moving / fpm, (moving % fpm + 1) / (float)fpm);
    }

    private SKPoint Centre(double[] state) =>
        new(_left + ((float)state[1] + 0.5f) * _cell, _top + ((float)state[0] + 0.5f) * _cell);

    private static bool SameCell(double[] a, double[] b) => a[0] == b[0] && a[1] == b[1];

    private static float Ease(float p) => p * p * (3 - 2 * p);

    private SKPoint AgentPosition(Segment segment, int move, float progress)
    {
        if (move >= segment.Actions.Length) return Centre(segment.States[^1]);
        var from = Centre(segment.States[move]);
        var to = Centre(segment.States[move + 1]);
        if (SameCell(segment.States[move], segment.States[move + 1]))
        {
            // A bump: lean toward the obstacle and come back.
            var (dr, dc) = Moves[segment.ActionIndex(move)];
            float lean = 0.3f * _cell * MathF.Sin(MathF.PI * progress);
            return new SKPoint(from.X + dc * lean, from.Y + dr * lean);
        }
        float e = Ease(progress);
        return new SKPoint(from.X + (to.X - from.X) * e, from.Y + (to.Y - from.Y) * e);
    }

    private void DrawPath(Segment segment, int move, float progress, SKCanvas canvas)
    {
        using var line = new SKPaint
        {
            Color = Agent.WithAlpha(150), IsAntialias = true, Style = SKPaintStyle.Stroke,
            StrokeWidth = Math.Max(2, 0.16f * _cell), StrokeCap = SKStrokeCap.Round, StrokeJoin = SKStrokeJoin.Round,
        };
        var start = Centre(segment.States[0]);
        canvas.DrawCircle(start, 0.22f * _cell, line);

        using var builder = new SKPathBuilder();
        builder.MoveTo(start);
        for (int t = 1; t <= Math.Min(move, segment.Actions.Length); t++) builder.LineTo(Centre(segment.States[t]));
        if (move < segment.Actions.Length && !SameCell(segment.States[move], segment.States[move + 1]))
            builder.LineTo(AgentPosition(segment, move, progress));
        using var path = builder.Detach();
        canvas.DrawPath(path, line);

        using var bump = new SKPaint { Color = BumpMark, IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeWidth = Math.Max(2, 0.1f * _cell), StrokeCap = SKStrokeCap.Round };
        for (int t = 0; t < segment.Actions.Length; t++)
        {
            bool started = t < move || (t == move && progress >= 0.5f);
            if (!started || !SameCell(segment.States[t], segment.States[t + 1])) continue;
            var (dr, dc) = Moves[segment.ActionIndex(t)];
            var c = Centre(segment.States[t]);
            var edge = new SKPoint(c.X + dc * 0.45f * _cell, c.Y + dr * 0.45f * _cell);
            float half = 0.25f * _cell;
            canvas.DrawLine(edge.X - dr * half, edge.Y - dc * half, edge.X + dr * half, edge.Y + dc * half, bump);
        }
    }

    private void DrawAgent(Segment segment, int move, float progress, SKCanvas canvas)
    {
        var at = AgentPosition(segment, move, progress);
        float r = 0.3f * _cell;
        using var fill = new SKPaint { Color = Agent, IsAntialias = true };
        using var rim = new SKPaint { Color = SKColors.White, IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeWidth = Math.Max(1.5f, 0.07f * _cell) };
        canvas.DrawCircle(at, r, fill);
        canvas.DrawCircle(at, r, rim);
    }

    private SKImage RasteriseBoard()
    {
        using var picture = RecordBoard();
        return StaticLayer.Rasterise(Width, Height, canvas =>
        {
            canvas.Clear(Background);
            canvas.DrawPicture(picture);
        });
    }

    private SKPicture RecordBoard()
    {
        using var recorder = new SKPictureRecorder();
        var canvas = recorder.BeginRecording(new SKRect(0, 0, Width, Height));
        for (int r = 0; r < _board.Rows; r++)
            for (int c = 0; c < _board.Cols; c++)
                DrawCell(canvas, r, c, _board.Cell(r, c));
        using var grid = new SKPaint { Color = RoadLine, Style = SKPaintStyle.Stroke, StrokeWidth = 1 };
        for (int i = 0; i <= _board.Rows; i++) canvas.DrawLine(_left, _top + i * _cell, _left + _board.Cols * _cell, _top + i * _cell, grid);
        for (int i = 0; i <= _board.Cols; i++) canvas.DrawLine(_left + i * _cell, _top, _left + i * _cell, _top + _board.Rows * _cell, grid);
        return recorder.EndRecording();
    }

    private void DrawCell(SKCanvas canvas, int r, int c, int code) =>
        DrawCellAt(canvas, SKRect.Create(_left + c * _cell, _top + r * _cell, _cell, _cell), code);

    /// <summary>Each kind of cell and the agent, drawn as in the clips, with what it means for the delivery.</summary>
    public IReadOnlyList<LegendItem> Legend()
    {
        int size = Math.Max(24, (int)MathF.Ceiling(_cell));
        byte[] Cell(int code, bool agent = false) => LegendPictures.Png(size, size, canvas =>
        {
            var rect = SKRect.Create(0, 0, _cell, _cell);
            DrawCellAt(canvas, rect, code);
            if (!agent) return;
            using var fill = new SKPaint { Color = Agent, IsAntialias = true };
            using var rim = new SKPaint { Color = SKColors.White, IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeWidth = Math.Max(1.5f, 0.07f * _cell) };
            canvas.DrawCircle(rect.MidX, rect.MidY, 0.3f * _cell, fill);
            canvas.DrawCircle(rect.MidX, rect.MidY, 0.3f * _cell, rim);
        });
        return
        [
            new("Delivery van", "The agent. Its path so far is drawn behind it; a red tick means it bumped into a house or the edge.", Cell(0, agent: true)),
            new("Destination", "Where the delivery goes: reaching it is the goal and ends the trip.", Cell(1)),
            new("Sheep", "Running into a sheep is very bad and ends the trip.", Cell(3)),
            new("Coin", "A small bonus, picked up by driving over it.", Cell(4)),
            new("Roadblock", "Can be driven through, at a cost.", Cell(5)),
            new("Mud", "Slower and costlier to drive through than road.", Cell(6)),
            new("House", "Cannot be entered.", Cell(2)),
            new("Road", "Each move costs a little fuel.", Cell(0)),
        ];
    }

    private void DrawCellAt(SKCanvas canvas, SKRect rect, int code)
    {
        bool mud = DeliveryGridworld.IsMudCell(code);
        using var paint = new SKPaint { IsAntialias = true };
        paint.Color = mud ? Mud : Road;
        canvas.DrawRect(rect, paint);
        if (mud)
        {
            paint.Color = MudSpeck;
            canvas.DrawCircle(rect.Left + 0.25f * _cell, rect.Top + 0.3f * _cell, 0.06f * _cell, paint);
            canvas.DrawCircle(rect.Left + 0.7f * _cell, rect.Top + 0.22f * _cell, 0.05f * _cell, paint);
            canvas.DrawCircle(rect.Left + 0.6f * _cell, rect.Top + 0.75f * _cell, 0.07f * _cell, paint);
            canvas.DrawCircle(rect.Left + 0.2f * _cell, rect.Top + 0.78f * _cell, 0.04f * _cell, paint);
        }
        switch (code)
        {
            case 1 or 7: DrawGoal(canvas, rect); break;
            case 2 or 8: DrawHouse(canvas, rect); break;
            case 3 or 9: DrawSheep(canvas, rect); break;
            case 4 or 10: DrawCoin(canvas, rect); break;
            case 5 or 11: DrawRoadblock(canvas, rect); break;
        }
    }

    private void DrawGoal(SKCanvas canvas, SKRect rect)
    {
        using var paint = new SKPaint { Color = Goal, IsAntialias = true };
        var inner = Inset(rect, 0.08f);
        canvas.DrawRoundRect(inner, 0.12f * _cell, 0.12f * _cell, paint);
        // A flag: pole and pennant.
        paint.Color = SKColors.White;
        float x = rect.Left + 0.36f * _cell;
        canvas.DrawRect(x, rect.Top + 0.2f * _cell, Math.Max(1, 0.06f * _cell), 0.6f * _cell, paint);
        using var pennant = Triangle(new(x, rect.Top + 0.2f * _cell), new(x + 0.36f * _cell, rect.Top + 0.32f * _cell), new(x, rect.Top + 0.45f * _cell));
        canvas.DrawPath(pennant, paint);
    }

    private void DrawHouse(SKCanvas canvas, SKRect rect)
    {
        using var paint = new SKPaint { Color = HouseWall, IsAntialias = true };
        canvas.DrawRect(rect.Left + 0.18f * _cell, rect.Top + 0.45f * _cell, 0.64f * _cell, 0.45f * _cell, paint);
        paint.Color = HouseRoof;
        using var roof = Triangle(new(rect.Left + 0.08f * _cell, rect.Top + 0.48f * _cell), new(rect.MidX, rect.Top + 0.1f * _cell), new(rect.Right - 0.08f * _cell, rect.Top + 0.48f * _cell));
        canvas.DrawPath(roof, paint);
        paint.Color = Road;
        canvas.DrawRect(rect.MidX - 0.08f * _cell, rect.Top + 0.65f * _cell, 0.16f * _cell, 0.25f * _cell, paint);
    }

    private void DrawSheep(SKCanvas canvas, SKRect rect)
    {
        using var paint = new SKPaint { Color = SheepFace, IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeWidth = Math.Max(1, 0.06f * _cell) };
        canvas.DrawLine(rect.Left + 0.35f * _cell, rect.Top + 0.6f * _cell, rect.Left + 0.35f * _cell, rect.Top + 0.85f * _cell, paint);
        canvas.DrawLine(rect.Left + 0.62f * _cell, rect.Top + 0.6f * _cell, rect.Left + 0.62f * _cell, rect.Top + 0.85f * _cell, paint);
        paint.Style = SKPaintStyle.Fill;
        paint.Color = SheepWool;
        foreach (var (dx, dy) in new[] { (0.32f, 0.45f), (0.5f, 0.4f), (0.66f, 0.47f), (0.48f, 0.58f), (0.34f, 0.58f) })
            canvas.DrawCircle(rect.Left + dx * _cell, rect.Top + dy * _cell, 0.16f * _cell, paint);
        paint.Color = SheepFace;
        canvas.DrawOval(rect.Left + 0.8f * _cell, rect.Top + 0.42f * _cell, 0.1f * _cell, 0.13f * _cell, paint);
    }

    private void DrawCoin(SKCanvas canvas, SKRect rect)
    {
        using var paint = new SKPaint { Color = CoinFill, IsAntialias = true };
        canvas.DrawCircle(rect.MidX, rect.MidY, 0.24f * _cell, paint);
        paint.Color = CoinRim;
        paint.Style = SKPaintStyle.Stroke;
        paint.StrokeWidth = Math.Max(1, 0.06f * _cell);
        canvas.DrawCircle(rect.MidX, rect.MidY, 0.24f * _cell, paint);
        canvas.DrawCircle(rect.MidX, rect.MidY, 0.12f * _cell, paint);
    }

    private void DrawRoadblock(SKCanvas canvas, SKRect rect)
    {
        using var paint = new SKPaint { Color = Barrier, IsAntialias = true };
        var bar = SKRect.Create(rect.Left + 0.1f * _cell, rect.Top + 0.32f * _cell, 0.8f * _cell, 0.36f * _cell);
        canvas.DrawRoundRect(bar, 0.06f * _cell, 0.06f * _cell, paint);
        paint.Color = SKColors.White;
        paint.Style = SKPaintStyle.Stroke;
        paint.StrokeWidth = Math.Max(1, 0.07f * _cell);
        canvas.Save();
        canvas.ClipRect(bar);
        for (float x = bar.Left; x < bar.Right; x += 0.3f * _cell)
            canvas.DrawLine(x, bar.Bottom, x + bar.Height, bar.Top, paint);
        canvas.Restore();
        paint.Color = SheepFace;
        paint.StrokeWidth = Math.Max(1, 0.06f * _cell);
        canvas.DrawLine(bar.Left + 0.1f * _cell, bar.Bottom, bar.Left + 0.1f * _cell, rect.Top + 0.88f * _cell, paint);
        canvas.DrawLine(bar.Right - 0.1f * _cell, bar.Bottom, bar.Right - 0.1f * _cell, rect.Top + 0.88f * _cell, paint);
    }

    private static SKPath Triangle(SKPoint a, SKPoint b, SKPoint c)
    {
        using var builder = new SKPathBuilder();
        builder.MoveTo(a);
        builder.LineTo(b);
        builder.LineTo(c);
        builder.Close();
        return builder.Detach();
    }

    private SKRect Inset(SKRect rect, float fraction) =>
        SKRect.Inflate(rect, -fraction * _cell, -fraction * _cell);

    private static string BoardHash(DeliveryGridworld board)
    {
        var bytes = new byte[board.Rows * board.Cols + 2];
        bytes[0] = (byte)board.Rows;
        bytes[1] = (byte)board.Cols;
        for (int r = 0; r < board.Rows; r++)
            for (int c = 0; c < board.Cols; c++)
                bytes[2 + r * board.Cols + c] = (byte)board.Cell(r, c);
        return Convert.ToHexStringLower(SHA256.HashData(bytes))[..12];
    }
}
