namespace PreferenceStudio.Core.Media.Stores;

/// <summary>
/// Where the studio's files (clips, posters, reward-model and policy checkpoints) are kept so that every node can
/// read what any node wrote. Files are always made and read at a local path under the data folder (ffmpeg and
/// TorchSharp work on files); a store publishes a file after it was written and brings it to the local path before it
/// is read. The folder store is a folder every node shares; the S3 store keeps the files in a bucket and the local
/// folder as each node's cache.
/// </summary>
public interface IMediaStore
{
    /// <summary>"folder" or "s3", for logs and health.</summary>
    string Kind { get; }

    /// <summary>Makes the file just written at <paramref name="localPath"/> readable by every node.</summary>
    Task PublishAsync(string localPath, CancellationToken ct = default);

    /// <summary>
    /// The local path to read the file recorded as <paramref name="recordedPath"/> (by this node or another) from,
    /// brought there first if needed; null when no node published it.
    /// </summary>
    Task<string?> LocalCopyAsync(string recordedPath, CancellationToken ct = default);
}

/// <summary>A folder every node reaches at the same path (a shared volume or NFS): nothing to copy.</summary>
public sealed class FolderMediaStore : IMediaStore
{
    public string Kind => "folder";

    public Task PublishAsync(string localPath, CancellationToken ct = default) => Task.CompletedTask;

    public Task<string?> LocalCopyAsync(string recordedPath, CancellationToken ct = default) =>
        Task.FromResult(File.Exists(recordedPath) ? recordedPath : null);
}
