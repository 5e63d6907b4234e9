namespace PreferenceStudio.Core.Data;

/// <summary>A rendered video of a segment.</summary>
public class Clip
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid SegmentId { get; set; }
    public Guid? RoundId { get; set; }
    /// <summary>Path relative to the media folder.</summary>
    public string FileName { get; set; } = "";
    public string? PosterFileName { get; set; }
    public string? Sha256 { get; set; }
    public int Frames { get; set; }
    public int Width { get; set; }
    public int Height { get; set; }
    public ClipStatus Status { get; set; } = ClipStatus.Pending;
    public string? Error { get; set; }
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
    public DateTimeOffset? RenderedAt { get; set; }

    public SegmentRecord? Segment { get; set; }
}
