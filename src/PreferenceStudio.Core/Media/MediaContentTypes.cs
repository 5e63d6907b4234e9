namespace PreferenceStudio.Core.Media;

/// <summary>The media type of a file the studio keeps (clips, posters, policy files, checkpoints), by its extension.</summary>
public static class MediaContentTypes
{
    public static string For(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".mp4" => "video/mp4",
        ".png" => "image/png",
        ".webm" => "video/webm",
        ".json" => "application/json",
        _ => "application/octet-stream",
    };
}
