using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Web.Hosting;

namespace PreferenceStudio.Web.Features.Dataset;

/// <summary>Dataset export and import in the exchange format (JSONL), under /api/v1/campaigns/{id}.</summary>
public static class DatasetApi
{
    public static RouteGroupBuilder MapDatasetApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/campaigns/{id:guid}").WithTags("Dataset");

        group.MapGet("/export", async (Guid id, string? format, IDbContextFactory<StudioDbContext> dbFactory, DatasetExporter exporter, CancellationToken ct) =>
            {
                format ??= "jsonl";
                if (!string.Equals(format, "jsonl", StringComparison.OrdinalIgnoreCase))
                    throw StudioProblemException.Invalid($"Unknown export format '{format}'. Use format=jsonl.");
                await EnsureCampaignAsync(dbFactory, id, ct);
                return Results.Stream(stream => exporter.WriteJsonlAsync(id, stream, ct), "application/x-ndjson",
                    fileDownloadName: $"campaign-{id:N}.jsonl");
            })
            .WithName("ExportDataset").WithSummary("Every labelled comparison as preferencestudio/preference@1 JSONL");

        group.MapPost("/preferences/import", async (Guid id, HttpRequest request, IDbContextFactory<StudioDbContext> dbFactory, DatasetImporter importer, CancellationToken ct) =>
            {
                await EnsureCampaignAsync(dbFactory, id, ct);
                try
                {
                    // The importer validates every line before it stores anything; buffer the body so it can be read whole.
                    using var body = new MemoryStream();
                    await request.Body.CopyToAsync(body, ct);
                    body.Position = 0;
                    return Results.Ok(await importer.ImportAsync(id, body, ct));
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
            .Accepts<string>("application/x-ndjson", "application/jsonl", "text/plain")
            .WithName("ImportPreferences").WithSummary("Store a JSONL file of comparisons as labels of this campaign (all or nothing)");

        return api;
    }

    private static async Task EnsureCampaignAsync(IDbContextFactory<StudioDbContext> dbFactory, Guid id, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (!await db.Campaigns.AnyAsync(c => c.Id == id, ct)) throw StudioProblemException.NotFound($"No campaign {id}.");
    }
}
