namespace PreferenceStudio.Core.Media;

/// <summary>ffmpeg could not encode a clip; the message carries ffmpeg's own error lines.</summary>
public sealed class ClipEncodingException : Exception
{
    public ClipEncodingException(string message, int? exitCode = null, Exception? inner = null) : base(message, inner)
    {
        ExitCode = exitCode;
    }

    /// <summary>ffmpeg's exit code, when it ran.</summary>
    public int? ExitCode { get; }
}
