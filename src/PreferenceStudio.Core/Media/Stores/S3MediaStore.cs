using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace PreferenceStudio.Core.Media.Stores;

/// <summary>Where an S3-compatible object store is and how to reach it (Studio:Media:S3).</summary>
public sealed class S3StoreOptions
{
    /// <summary>The endpoint of an S3-compatible server (MinIO, Ceph, s3rver...); empty for AWS itself, by <see cref="Region"/>.</summary>
    public string? ServiceUrl { get; set; }
    public string Bucket { get; set; } = "";
    public string Region { get; set; } = "us-east-1";
    /// <summary>Path-style addresses (host/bucket/key), as most self-hosted servers want.</summary>
    public bool ForcePathStyle { get; set; } = true;
    /// <summary>Prefix of every key, so several studios can share a bucket.</summary>
    public string Prefix { get; set; } = "";
    /// <summary>With <see cref="SecretKey"/>: the credentials; both empty uses the AWS SDK's own chain (environment, instance role).</summary>
    public string? AccessKey { get; set; }
    public string? SecretKey { get; set; }
}

/// <summary>
/// Files in an S3 bucket under the key of their path relative to the data folder ("media/&lt;sha&gt;.mp4",
/// "checkpoints/&lt;campaign&gt;/reward-bt-&lt;run&gt;.bin"); each node's data folder is its cache of them.
/// </summary>
public sealed class S3MediaStore : IMediaStore, IDisposable
{
    private readonly AmazonS3Client _client;
    private readonly S3StoreOptions _options;
    private readonly string _dataRoot;

    public S3MediaStore(S3StoreOptions options, string dataRoot)
    {
        if (string.IsNullOrWhiteSpace(options.Bucket))
            throw new ArgumentException("Studio:Media:S3:Bucket names the bucket the studio keeps its files in; it is empty.");
        _options = options;
        _dataRoot = Path.GetFullPath(dataRoot);
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            // Checksums only where S3 requires them: the SDK's default streaming trailer (aws-chunked) is stored
            // verbatim, framing and all, by S3-compatible servers that do not speak it.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (!string.IsNullOrWhiteSpace(options.ServiceUrl)) config.ServiceURL = options.ServiceUrl;
        else config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(options.Region);
        if (!string.IsNullOrWhiteSpace(options.ServiceUrl)) config.AuthenticationRegion = options.Region;
        _client = string.IsNullOrEmpty(options.AccessKey)
            ? new AmazonS3Client(config)
            : new AmazonS3Client(new BasicAWSCredentials(options.AccessKey, options.SecretKey), config);
    }

    public string Kind => "s3";

    /// <summary>The object key of a file under the data folder; paths recorded by a node with another data folder keep their media/ or checkpoints/ tail.</summary>
    public string KeyFor(string localPath)
    {
        var full = Path.GetFullPath(localPath);
        string relative;
        if (full.StartsWith(_dataRoot + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            relative = full[(_dataRoot.Length + 1)..];
        else
        {
            int at = Math.Max(full.LastIndexOf($"{Path.DirectorySeparatorChar}media{Path.DirectorySeparatorChar}", StringComparison.Ordinal),
                full.LastIndexOf($"{Path.DirectorySeparatorChar}checkpoints{Path.DirectorySeparatorChar}", StringComparison.Ordinal));
            if (at < 0) throw new ArgumentException($"'{localPath}' is neither under the data folder nor in a media or checkpoints folder.");
            relative = full[(at + 1)..];
        }
        return _options.Prefix + relative.Replace(Path.DirectorySeparatorChar, '/');
    }

    /// <summary>Where the object of <paramref name="localPath"/> lives in this node's data folder (for paths another node recorded).</summary>
    public string LocalPathFor(string localPath) => Path.Combine(_dataRoot, KeyFor(localPath)[_options.Prefix.Length..].Replace('/', Path.DirectorySeparatorChar));

    public async Task PublishAsync(string localPath, CancellationToken ct = default)
    {
        await _client.PutObjectAsync(new PutObjectRequest
        {
            BucketName = _options.Bucket,
            Key = KeyFor(localPath),
            FilePath = localPath,
            ContentType = MediaContentTypes.For(localPath),
            UseChunkEncoding = false,
        }, ct);
    }

    public async Task<string?> LocalCopyAsync(string recordedPath, CancellationToken ct = default)
    {
        var localPath = LocalPathFor(recordedPath);
        if (File.Exists(localPath)) return localPath;
        try
        {
            using var response = await _client.GetObjectAsync(_options.Bucket, KeyFor(recordedPath), ct);
            Directory.CreateDirectory(Path.GetDirectoryName(localPath)!);
            // Written beside and moved into place: a reader never sees half a file, and two fetching at once agree.
            var temp = $"{localPath}.{Guid.NewGuid():N}.download";
            await using (var file = File.Create(temp))
                await response.ResponseStream.CopyToAsync(file, ct);
            File.Move(temp, localPath, overwrite: true);
            return localPath;
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>The keys under <paramref name="prefix"/> (after the configured prefix).</summary>
    public async Task<IReadOnlyList<string>> ListKeysAsync(string prefix, CancellationToken ct = default)
    {
        var keys = new List<string>();
        var request = new ListObjectsV2Request { BucketName = _options.Bucket, Prefix = _options.Prefix + prefix };
        ListObjectsV2Response response;
        do
        {
            response = await _client.ListObjectsV2Async(request, ct);
            keys.AddRange((response.S3Objects ?? []).Select(o => o.Key));
            request.ContinuationToken = response.NextContinuationToken;
        } while (response.IsTruncated == true);
        return keys;
    }

    public void Dispose() => _client.Dispose();
}
