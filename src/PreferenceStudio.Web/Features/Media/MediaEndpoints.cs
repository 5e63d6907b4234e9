using PreferenceStudio.Core.Media.Stores;
using Microsoft.Extensions.Options;
using PreferenceStudio.Web.Hosting;

namespace PreferenceStudio.Web.Features.Media;

/// <summary>
/// Serves rendered clips from the media folder (outside wwwroot) with HTTP range requests for video seeking, to the
/// raters and members of a campaign the clip belongs to (the media policy).
/// </summary>
public static class MediaEndpoints
{
    public static IEndpointRouteBuilder MapMedia(this IEndpointRouteBuilder app)
    {
        app.MapGet("/media/{fileName}", async (string fileName, IOptions<StudioOptions> options, IMediaStore store, CancellationToken ct) =>
        {
            // Clip names are content hashes: refuse anything that could walk out of the media folder.
            if (fileName.Contains('/') || fileName.Contains('\\') || fileName.Contains("..") || fileName.StartsWith('.'))
                throw StudioProblemException.Invalid("A media file name is a single file name such as '<sha256>.mp4'.");
            // From this node's folder; with an object store, fetched into it once (the folder is then the node's cache).
            var path = await store.LocalCopyAsync(Path.Combine(options.Value.MediaPath, fileName), ct)
                ?? throw StudioProblemException.NotFound($"No media file named '{fileName}'.");
            return TypedResults.PhysicalFile(path, PreferenceStudio.Core.Media.MediaContentTypes.For(fileName), enableRangeProcessing: true);
        })
        .RequireAuthorization(Access.StudioPolicies.Media)
        .WithName("GetMedia").WithSummary("A rendered clip or poster, with range requests; for the raters and members of a campaign it belongs to").ExcludeFromDescription();
        return app;
    }
}
