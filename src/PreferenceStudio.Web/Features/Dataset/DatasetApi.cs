using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using PreferenceStudio.Core.Data.Access;
using PreferenceStudio.Web.Features.Access;
using PreferenceStudio.Web.Hosting;

namespace PreferenceStudio.Web.Features.Dataset;

/// <summary>Dataset export and import in the exchange format (JSONL), under /api/v1/campaigns/{id}; members only.</summary>
public static class DatasetApi
{
    /// <summary>Media types an import body may have: JSON Lines by its common names.</summary>
    public static readonly IReadOnlyList<string> ImportContentTypes = ["application/x-ndjson", "application/jsonl", "application/json-lines", "application/x-jsonlines"];

    /// <summary>
    /// A file written whole before it is sent: the database is read at its own pace and released before a slow client
    /// downloads; the file is deleted when the response is done with it (or when writing it failed).
    /// </summary>
    private static async Task<IResult> WrittenFileAsync(string extension, Func<string, Task> write, string contentType, string downloadName)
    {
        var path = Path.Combine(Path.GetTempPath(), $"studio-export-{Guid.NewGuid():N}.{extension}");
        try
        {
            await write(path);
        }
        catch
        {
            File.Delete(path);
            throw;
        }
        return Results.File(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.DeleteOnClose | FileOptions.Asynchronous),
            contentType, downloadName);
    }

    public static RouteGroupBuilder MapDatasetApi(this RouteGroupBuilder api)
    {
        // The exchange format's JSON Schemas are documentation of a public file format: anyone may read them.
        api.MapGet("/schemas/{name}", (string name) =>
                PreferenceStudio.Core.Exchange.ExchangeSchemas.Read(name) is { } schema
                    ? Results.Text(schema, "application/schema+json", System.Text.Encoding.UTF8)
                    : throw StudioProblemException.NotFound(
                        $"No schema named '{name}'. The exchange format's schemas are {string.Join(" and ", PreferenceStudio.Core.Exchange.ExchangeSchemas.Files)}."))
            .AllowAnonymous()
            .WithTags("Dataset")
            .WithName("GetExchangeSchema")
            .WithSummary("The JSON Schema (draft 2020-12) of a record kind of the exchange format: preference@1.json (comparisons) or factor-ranking@1.json (factor rankings)")
            .Produces(StatusCodes.Status200OK, contentType: "application/schema+json")
            .ProducesProblem(StatusCodes.Status404NotFound);

        var group = api.MapGroup("/campaigns/{id:guid}").WithTags("Dataset");

        group.MapGet("/export", async (Guid id, string? format, string? kind, string? license, bool? clips, DatasetExporter exporter, DatasetTables tables,
                DatasetBundle bundle, CancellationToken ct) =>
            {
                format = (format ?? "jsonl").ToLowerInvariant();
                kind = kind?.ToLowerInvariant();
                if (format == "bundle")
                {
                    return await WrittenFileAsync("zip", path => bundle.WriteAsync(id, path, license ?? DatasetBundle.DefaultLicence, clips ?? false, ct),
                        "application/zip", $"campaign-{id:N}.zip");
                }
                DatasetTables.Validate(format, kind);
                if (format == "jsonl")
                    return Results.Stream(stream => exporter.WriteJsonlAsync(id, stream, ct, kind), "application/x-ndjson",
                        fileDownloadName: $"campaign-{id:N}{(kind is null ? "" : "-" + kind)}.jsonl");
                kind ??= ExportKinds.Comparisons;
                return await WrittenFileAsync(format, path => tables.WriteAsync(id, kind, format, path, ct),
                    format == "csv" ? "text/csv" : "application/vnd.apache.parquet", $"campaign-{id:N}-{kind}.{format}");
            })
            .RequireCampaign(CampaignRole.Viewer, ApiScopes.DatasetsRead)
            .WithName("ExportDataset")
            .WithSummary("The campaign's data: format=jsonl (default; the lossless exchange file, both record kinds unless kind=comparisons or rankings), csv or parquet (one table: kind=comparisons, the default, segments, rankings or raters), or bundle (a zip of the four Parquet tables, the JSONL and a README.md dataset card; license=ID, clips=true adds the MP4s); raters by pseudonym")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);

        group.MapPost("/preferences/import", async (Guid id, HttpRequest request, IOptions<StudioOptions> options, DatasetImporter importer, CancellationToken ct) =>
            {
                var limits = options.Value.Import;
                if (!Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType)
                    || !ImportContentTypes.Contains(mediaType.MediaType.Value ?? "", StringComparer.OrdinalIgnoreCase))
                    throw StudioProblemException.UnsupportedMediaType(
                        $"Send the file as JSON Lines with Content-Type {ImportContentTypes[0]} (also accepted: {string.Join(", ", ImportContentTypes.Skip(1))}); got '{request.ContentType ?? "none"}'.");
                if (request.ContentLength > limits.MaxBytes) throw TooLarge(limits.MaxBytes);
                // The server's own cap (Kestrel's default is 30 MB) gives way to the studio's, which the stream below enforces
                // for bodies without a Content-Length too.
                if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size) size.MaxRequestBodySize = null;
                try
                {
                    // Read line by line from the request as it arrives; every line is validated before anything is stored.
                    await using var body = new LimitedReadStream(request.Body, limits.MaxBytes, () => TooLarge(limits.MaxBytes));
                    return Results.Ok(await importer.ImportAsync(id, body, limits.MaxSegmentSteps, ct));
                }
                catch (ImportRejectedException ex)
                {
                    var problem = new ProblemDetails
                    {
                        Status = StatusCodes.Status400BadRequest,
                        Title = "The file was not imported; nothing was stored",
                        Detail = $"{ex.Errors.Count} line(s) have errors; fix them and send the whole file again. First: {ex.Errors[0]}",
                    };
                    problem.Extensions["errors"] = ex.Errors.Take(100).Select(e => new { line = e.Line, message = e.Message }).ToArray();
                    return Results.Problem(problem);
                }
            })
            .Accepts<string>(ImportContentTypes[0], [.. ImportContentTypes.Skip(1)])
            .RequireCampaign(CampaignRole.Editor, ApiScopes.DatasetsWrite)
            .WithName("ImportPreferences").WithSummary("Store a JSONL file of comparisons (and factor rankings) as labels of this campaign, all or nothing");

        return api;
    }

    private static StudioProblemException TooLarge(long max) =>
        StudioProblemException.TooLarge($"The import body is larger than this studio takes ({max:N0} bytes, Studio:Import:MaxBytes); nothing was stored. Split the file, or raise the limit.");
}

/// <summary>Reads at most <c>limit</c> bytes from a stream and then fails with the given error, without buffering.</summary>
internal sealed class LimitedReadStream(Stream inner, long limit, Func<Exception> tooLarge) : Stream
{
    private long _read;

    public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Count(await inner.ReadAsync(buffer, cancellationToken));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private int Count(int n)
    {
        _read += n;
        if (_read > limit) throw tooLarge();
        return n;
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _read; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
