using PreferenceStudio.Core.Data.Access;
using PreferenceStudio.Web.Features.Access;
using PreferenceStudio.Web.Hosting;

namespace PreferenceStudio.Web.Features.Quality;

/// <summary>Label quality under /api/v1/campaigns/{id}: agreement and rater statistics, gold pairs, training overrides.</summary>
public static class QualityApi
{
    public static RouteGroupBuilder MapQualityApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/campaigns/{id:guid}").WithTags("Quality");

        group.MapGet("/quality", async (Guid id, QualityService quality, CancellationToken ct) =>
                TypedResults.Ok(await quality.ReportAsync(id, ct) ?? throw StudioProblemException.NotFound($"No campaign {id}.")))
            .RequireCampaign(CampaignRole.Viewer, ApiScopes.CampaignsRead)
            .WithName("Quality").WithSummary("Agreement (Krippendorff's alpha, Fleiss' kappa) per round and overall, and per rater (by pseudonym) gold accuracy, agreement with the leave-one-out majority, median response time, share of fast answers, left-choice rate, flags, exclusion and estimated reliability");

        group.MapGet("/gold", async (Guid id, QualityService quality, CancellationToken ct) => TypedResults.Ok(await quality.GoldCandidatesAsync(id, ct)))
            .RequireCampaign(CampaignRole.Viewer, ApiScopes.CampaignsRead)
            .WithName("GoldPairs").WithSummary("The current round's shared pairs with their gold answers (null: an ordinary pair)");

        group.MapPut("/comparisons/{comparisonId:guid}/gold", async (Guid id, Guid comparisonId, GoldRequest request, QualityService quality, CancellationToken ct) =>
            {
                await quality.SetGoldAsync(id, comparisonId, request.Answer, ct);
                return TypedResults.NoContent();
            })
            .RequireCampaign(CampaignRole.Editor, ApiScopes.CampaignsWrite)
            .WithName("SetGold").WithSummary("Marks a pair as gold with its fixed answer ({\"answer\": \"left\"|\"right\"|\"equal\"}), or ordinary again ({\"answer\": null})");

        group.MapPut("/raters/{pseudonym}/training", async (Guid id, string pseudonym, TrainingOverrideRequest request, QualityService quality, CancellationToken ct) =>
            {
                await quality.SetTrainingOverrideAsync(id, pseudonym, request.Include, ct);
                return TypedResults.NoContent();
            })
            .RequireCampaign(CampaignRole.Editor, ApiScopes.CampaignsWrite)
            .WithName("SetRaterTraining").WithSummary("Whether a rater's labels train the models: {\"include\": true} always, false never, null by the campaign's rule (flagged raters left out when it says so)");
        return api;
    }
}
