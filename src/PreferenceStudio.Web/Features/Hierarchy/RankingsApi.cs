using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Web.Features.Rating;
using PreferenceStudio.Web.Hosting;

namespace PreferenceStudio.Web.Features.Hierarchy;

/// <summary>Raters' factor rankings over HTTP, under /api/v1/campaigns/{id}/rankings: store a version, read the history or the current one.</summary>
public static class RankingsApi
{
    public static RouteGroupBuilder MapRankingsApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/campaigns/{id:guid}/rankings").WithTags("Rankings");

        group.MapPost("/", async Task<Results<Created<RankingView>, Ok<RankingView>, ValidationProblem>> (
                Guid id, RankingSubmission submission, FactorRankingStore store, CancellationToken ct) =>
            {
                try
                {
                    // A resend of the current ranking stores nothing and answers 200 with the version already held.
                    var (saved, created) = await store.SaveVersionAsync(id, submission, "api", ct);
                    return created
                        ? TypedResults.Created($"/api/v1/campaigns/{id}/rankings/current?rater={Uri.EscapeDataString(saved.RaterId)}", saved)
                        : TypedResults.Ok(saved);
                }
                catch (RankingValidationException ex)
                {
                    return TypedResults.ValidationProblem(ex.Errors, title: "The ranking is not usable; nothing was stored",
                        detail: "Fix the fields listed in errors and send the ranking again: " + string.Join(" ", ex.Errors.SelectMany(e => e.Value)));
                }
            })
            .WithName("SaveRanking")
            .WithSummary("Store a rater's ranking of the campaign's reward factors (most important first) and per-level margins; a changed ranking adds a version");

        group.MapGet("/", async (Guid id, string? rater, FactorRankingStore store, IDbContextFactory<StudioDbContext> dbFactory, CancellationToken ct) =>
            {
                await EnsureCampaignAsync(dbFactory, id, ct);
                var history = await store.HistoryAsync(id, ct);
                return TypedResults.Ok(rater is null ? history : history.Where(r => r.RaterId == rater).ToList());
            })
            .WithName("ListRankings")
            .WithSummary("Every version of every rater's ranking, oldest first (rater=ID: that rater's versions); the current one is at .../rankings/current?rater=ID");

        group.MapGet("/current", async (Guid id, string rater, FactorRankingStore store, IDbContextFactory<StudioDbContext> dbFactory, CancellationToken ct) =>
            {
                await EnsureCampaignAsync(dbFactory, id, ct);
                return TypedResults.Ok(await CurrentAsync(store, id, rater, ct));
            })
            .WithName("CurrentRanking").WithSummary("A rater's current ranking (the latest version)");

        return api;
    }

    private static async Task<RankingView> CurrentAsync(FactorRankingStore store, Guid campaign, string rater, CancellationToken ct) =>
        await store.CurrentAsync(campaign, rater, ct)
            ?? throw StudioProblemException.NotFound($"Rater '{rater}' has not ranked the factors of campaign {campaign}; POST a ranking to .../rankings first.");

    private static async Task EnsureCampaignAsync(IDbContextFactory<StudioDbContext> dbFactory, Guid id, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (!await db.Campaigns.AnyAsync(c => c.Id == id, ct))
            throw StudioProblemException.NotFound($"No campaign {id}.");
    }
}
