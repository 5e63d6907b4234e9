using PreferenceStudio.Core.Media.Stores;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using PreferenceStudio.Core.Data.Access;
using PreferenceStudio.Web.Features.Access;
using PreferenceStudio.Web.Hosting;

namespace PreferenceStudio.Web.Features.Campaigns;

/// <summary>
/// REST endpoints for campaigns under /api/v1/campaigns. A researcher sees and changes only the campaigns they are a
/// member of (viewer: read; editor: start, pause; owner: members); an admin every campaign.
/// </summary>
public static class CampaignsApi
{
    public static RouteGroupBuilder MapCampaignsApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/campaigns").WithTags("Campaigns");

        group.MapGet("/", async (ClaimsPrincipal user, CampaignService campaigns, CancellationToken ct) => TypedResults.Ok(await campaigns.ListAsync(user, ct)))
            .RequireAccount(ApiScopes.CampaignsRead)
            .WithName("ListCampaigns").WithSummary("The campaigns you are a member of (an admin: all), newest first");

        group.MapGet("/{id:guid}", async Task<Results<Ok<CampaignDetail>, ProblemHttpResult>> (Guid id, CampaignService campaigns, CancellationToken ct) =>
                await campaigns.GetAsync(id, ct) is { } detail
                    ? TypedResults.Ok(detail)
                    : TypedResults.Problem(statusCode: 404, title: "Not found", detail: $"No campaign {id}."))
            .RequireCampaign(CampaignRole.Viewer, ApiScopes.CampaignsRead)
            .WithName("GetCampaign").WithSummary("A campaign with its rounds and their metrics");

        group.MapPost("/", async Task<Results<Created<CampaignSummary>, ValidationProblem>> (CampaignSettings settings, ClaimsPrincipal user, CampaignService campaigns, CancellationToken ct) =>
            {
                try
                {
                    var c = await campaigns.CreateAsync(settings, user.UserId(), ct);
                    return TypedResults.Created($"/api/v1/campaigns/{c.Id}", CampaignService.ToSummary(c, 0, 0, CampaignRole.Owner));
                }
                catch (CampaignValidationException ex)
                {
                    return TypedResults.ValidationProblem(ex.Errors, title: "The campaign settings are not usable", detail: "Fix the fields listed in errors and send the request again.");
                }
            })
            .RequireAccount(ApiScopes.CampaignsWrite)
            .WithName("CreateCampaign").WithSummary("Create a campaign (draft) of which you are the owner; start it with POST .../start");

        group.MapGet("/{id:guid}/runs", async Task<Results<Ok<IReadOnlyList<RunSummary>>, ProblemHttpResult>> (Guid id, CampaignService campaigns, CancellationToken ct) =>
                await campaigns.ListRunsAsync(id, ct) is { } runs
                    ? TypedResults.Ok(runs)
                    : TypedResults.Problem(statusCode: 404, title: "Not found", detail: $"No campaign {id}."))
            .RequireCampaign(CampaignRole.Viewer, ApiScopes.CampaignsRead)
            .WithName("ListRewardModelRuns").WithSummary("Every reward-model training run of a campaign with its metrics (accuracy, log-likelihood, calibration, per-rater accuracy by pseudonym, EPIC, policy return)");

        group.MapGet("/{id:guid}/rankings/stats", async Task<Results<Ok<PreferenceStudio.Web.Features.Hierarchy.RankingStats>, ProblemHttpResult>> (Guid id, CampaignService campaigns, CancellationToken ct) =>
                await campaigns.RankingStatsAsync(id, ct) is { } stats
                    ? TypedResults.Ok(stats)
                    : TypedResults.Problem(statusCode: 404, title: "Not found", detail: $"No campaign {id}."))
            .RequireCampaign(CampaignRole.Viewer, ApiScopes.CampaignsRead)
            .WithName("GetRankingStats")
            .WithSummary("Raters' factor rankings: how many ranked, first places and mean rank per factor, agreement (Kendall's W; null with fewer than two raters), and per rater how often clip choices went against their own hierarchy");

        group.MapGet("/{id:guid}/runs/{runId:guid}/checkpoint", async Task<Results<FileStreamHttpResult, ProblemHttpResult>> (Guid id, Guid runId, CampaignService campaigns, IMediaStore store, CancellationToken ct) =>
            {
                var run = await campaigns.FindRunAsync(id, runId, ct);
                if (run is null) return TypedResults.Problem(statusCode: 404, title: "Not found", detail: $"Campaign {id} has no reward-model run {runId}.");
                var local = run.CheckpointPath is null ? null : await store.LocalCopyAsync(run.CheckpointPath, ct);
                if (local is null)
                    return TypedResults.Problem(statusCode: 404, title: "No checkpoint", detail: $"Run {runId} ({run.ModelType}, round {run.RoundIndex + 1}) is {run.Status.ToString().ToLowerInvariant()} and has no checkpoint file." + (run.Error is null ? "" : " Its error: " + run.Error));
                return TypedResults.File(File.OpenRead(local), "application/octet-stream", $"{run.ModelType}-round{run.RoundIndex + 1}-{run.Id:N}.bin");
            })
            .RequireCampaign(CampaignRole.Viewer, ApiScopes.DatasetsRead)
            .WithName("DownloadRewardModelCheckpoint").WithSummary("The checkpoint file of a reward-model run (load it with `studio train-policy --reward FILE`); per-rater latents are keyed by pseudonym");

        group.MapGet("/{id:guid}/rater-settings", async (Guid id, CampaignService campaigns, CancellationToken ct) =>
                TypedResults.Ok(await campaigns.RaterSettingsAsync(id, ct)))
            .RequireCampaign(CampaignRole.Viewer, ApiScopes.CampaignsRead)
            .WithName("GetRaterSettings").WithSummary("What raters meet: instructions, consent, quota, completion code and URL, playback, who may join");

        group.MapPut("/{id:guid}/rater-settings", async (Guid id, RaterSettings settings, CampaignService campaigns, CancellationToken ct) =>
                TypedResults.Ok(await campaigns.UpdateRaterSettingsAsync(id, settings, ct)))
            .RequireCampaign(CampaignRole.Editor, ApiScopes.CampaignsWrite)
            .WithName("SetRaterSettings").WithSummary("Replace what raters meet (all fields); unusable fields are a validation problem, nothing changed");

        group.MapPost("/{id:guid}/start", async (Guid id, CampaignService campaigns, CancellationToken ct) =>
            {
                await campaigns.StartAsync(id, ct);
                return TypedResults.NoContent();
            })
            .RequireCampaign(CampaignRole.Editor, ApiScopes.CampaignsWrite)
            .WithName("StartCampaign").WithSummary("Start a draft campaign or resume a paused one");

        group.MapPost("/{id:guid}/pause", async (Guid id, CampaignService campaigns, CancellationToken ct) =>
            {
                await campaigns.PauseAsync(id, ct);
                return TypedResults.NoContent();
            })
            .RequireCampaign(CampaignRole.Editor, ApiScopes.CampaignsWrite)
            .WithName("PauseCampaign").WithSummary("Pause a running campaign");

        group.MapPost("/{id:guid}/retry", async (Guid id, CampaignService campaigns, CancellationToken ct) =>
            {
                await campaigns.RetryAsync(id, ct);
                return TypedResults.NoContent();
            })
            .RequireCampaign(CampaignRole.Editor, ApiScopes.CampaignsWrite)
            .WithName("RetryCampaign").WithSummary("Retry a failed campaign from the step that failed (409 when it has not failed)");

        return api;
    }
}
