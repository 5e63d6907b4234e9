namespace PreferenceStudio.Core.Media;

/// <summary>A clip on disk.</summary>
/// <param name="Path">Full path of the H.264 MP4; its file name is the clip's content key.</param>
/// <param name="Sha256">Lower-case hex SHA-256 of the MP4 file's bytes.</param>
/// <param name="Frames">Number of video frames.</param>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="Duration">Play time (frames / frame rate).</param>
public sealed record EncodedClip(string Path, string Sha256, int Frames, int Width, int Height, TimeSpan Duration)
{
    /// <summary>The PNG poster beside the MP4, named by the same content key: the clip's last frame, which shows the whole path.</summary>
    public string PosterPath => System.IO.Path.ChangeExtension(Path, ".png");

    /// <summary>The content key: the SHA-256 of segment, renderer settings and encoder settings that names the files.</summary>
    public string ContentKey => System.IO.Path.GetFileNameWithoutExtension(Path);
}
