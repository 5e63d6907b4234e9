using Microsoft.AspNetCore.Http.HttpResults;
using PreferenceStudio.Core.Data.Access;
using PreferenceStudio.Web.Features.Access;
using PreferenceStudio.Web.Hosting;

namespace PreferenceStudio.Web.Features.Hierarchy;

/// <summary>
/// Raters' factor rankings over HTTP, under /api/v1/campaigns/{id}/rankings: a rater stores a version of their own
/// ranking and reads it back; the campaign's members read every rater's history (raters named by pseudonym).
/// </summary>
public static class RankingsApi
{
    public static RouteGroupBuilder MapRankingsApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/campaigns/{id:guid}/rankings").WithTags("Rankings");

        group.MapPost("/", async Task<Results<Created<RankingView>, Ok<RankingView>, ValidationProblem>> (
                Guid id, RankingSubmission submission, HttpContext http, FactorRankingStore store, CancellationToken ct) =>
            {
                try
                {
                    // A resend of the current ranking stores nothing and answers 200 with the version already held.
                    var (saved, created) = await store.SaveVersionAsync(RaterContext.Current(http), submission, "api", ct);
                    return created
                        ? TypedResults.Created($"/api/v1/campaigns/{id}/rankings/mine", saved)
                        : TypedResults.Ok(saved);
                }
                catch (RankingValidationException ex)
                {
                    return TypedResults.ValidationProblem(ex.Errors, title: "The ranking is not usable; nothing was stored",
                        detail: "Fix the fields listed in errors and send the ranking again: " + string.Join(" ", ex.Errors.SelectMany(e => e.Value)));
                }
            })
            .RequireRater()
            .WithName("SaveRanking")
            .WithSummary("The authenticated rater stores their ranking of the campaign's reward factors (most important first) and per-level margins; a changed ranking adds a version");

        group.MapGet("/mine", async (Guid id, HttpContext http, FactorRankingStore store, CancellationToken ct) =>
            {
                var rater = RaterContext.Current(http);
                return TypedResults.Ok(await store.CurrentAsync(id, rater.Pseudonym, ct)
                    ?? throw StudioProblemException.NotFound("You have not ranked this campaign's factors yet; POST a ranking to .../rankings first."));
            })
            .RequireRater()
            .WithName("MyRanking").WithSummary("The authenticated rater's current ranking");

        group.MapGet("/", async (Guid id, string? rater, FactorRankingStore store, CancellationToken ct) =>
            {
                var history = await store.HistoryAsync(id, ct);
                return TypedResults.Ok(rater is null ? history : history.Where(r => r.Rater == rater).ToList());
            })
            .RequireCampaign(CampaignRole.Viewer, ApiScopes.CampaignsRead)
            .WithName("ListRankings")
            .WithSummary("Every version of every rater's ranking, oldest first (rater=PSEUDONYM: that rater's versions); members only");

        group.MapGet("/current", async (Guid id, string rater, FactorRankingStore store, CancellationToken ct) =>
                TypedResults.Ok(await store.CurrentAsync(id, rater, ct)
                    ?? throw StudioProblemException.NotFound($"Rater '{rater}' has not ranked the factors of campaign {id}.")))
            .RequireCampaign(CampaignRole.Viewer, ApiScopes.CampaignsRead)
            .WithName("CurrentRanking").WithSummary("A rater's current ranking (the latest version), by pseudonym; members only");

        return api;
    }
}
