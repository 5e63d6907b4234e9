using PreferenceStudio.Environments;

namespace PreferenceStudio.Core.Media;

/// <summary>What became of one segment handed to <see cref="ClipEncoder.EncodeManyAsync"/>.</summary>
/// <param name="Index">Position of the segment in the list that was passed in.</param>
/// <param name="Segment">The segment itself.</param>
/// <param name="ContentKey">The key that names the clip's files (also when it failed).</param>
/// <param name="Clip">The clip on disk (MP4 and poster), or null when it failed.</param>
/// <param name="Error">Why it failed (ffmpeg's own error lines, a missing ffmpeg, or the renderer's exception), or null.</param>
/// <param name="Reused">True when the clip already existed and nothing was encoded.</param>
public sealed record ClipEncodeResult(int Index, Segment Segment, string ContentKey, EncodedClip? Clip, string? Error, bool Reused)
{
    public bool Succeeded => Clip is not null;
}
