using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using PreferenceStudio.Core.Data.Access;
using PreferenceStudio.Web.Features.Access;
using PreferenceStudio.Web.Hosting;

namespace PreferenceStudio.Web.Features.Raters;

/// <summary>
/// A campaign's raters for its researchers, under /api/v1/campaigns/{id}: list them (by pseudonym), make scripted
/// raters with rater tokens, make personal invite links, and erase one rater's data.
/// </summary>
public static class RatersApi
{
    public static RouteGroupBuilder MapRatersApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/campaigns/{id:guid}").WithTags("Raters");

        group.MapGet("/raters", async (Guid id, RaterDirectory raters, CancellationToken ct) => TypedResults.Ok(await raters.ListAsync(id, ct)))
            .RequireCampaign(CampaignRole.Viewer, ApiScopes.CampaignsRead)
            .WithName("ListRaters").WithSummary("Every rater the campaign has had, by pseudonym, with their label and ranking counts (erased ones marked)");

        group.MapPost("/raters", async Task<Created<CreatedRaters>> (Guid id, CreateRatersRequest request, RaterDirectory raters, CancellationToken ct) =>
                TypedResults.Created($"/api/v1/campaigns/{id}/raters", new CreatedRaters(await raters.CreateScriptedAsync(id, request, ct))))
            .RequireCampaign(CampaignRole.Editor, ApiScopes.CampaignsWrite)
            .WithName("CreateRaters").WithSummary("Scripted raters (simulated teachers, pilots): count new ones, or name them; each gets a rater token, shown only in this answer, to send as Authorization: Bearer");

        group.MapDelete("/raters/{pseudonym}", async (Guid id, string pseudonym, ClaimsPrincipal user, RaterDirectory raters, CancellationToken ct) =>
                TypedResults.Ok(await raters.EraseAsync(id, pseudonym, user.Identity?.Name ?? user.UserId() ?? "unknown", ct)))
            .RequireCampaign(CampaignRole.Editor, ApiScopes.CampaignsWrite)
            .WithName("EraseRater").WithSummary("Erase one rater's data from the campaign (labels, rankings, served pairs); their identity is refused from now on and later training runs exclude them. The erasure is recorded");

        group.MapGet("/participants", async (Guid id, string? format, RaterDirectory raters, CancellationToken ct) =>
            {
                var people = await raters.ParticipantsAsync(id, ct);
                if (string.Equals(format, "json", StringComparison.OrdinalIgnoreCase)) return Results.Ok(people);
                if (format is not null && !string.Equals(format, "csv", StringComparison.OrdinalIgnoreCase))
                    throw StudioProblemException.Invalid($"Unknown format '{format}'. Use format=csv (the default) or format=json.");
                var csv = Csv.Write(
                    ["participant_id", "platform", "study", "session", "pseudonym", "joined_at", "labels", "seconds_spent", "completion_code_shown_at", "completion_code"],
                    people.Select(p => new object?[] { p.ParticipantId, p.Platform, p.Study, p.Session, p.Pseudonym, p.JoinedAt, p.Labels, p.SecondsSpent, p.CompletionCodeShownAt, p.CompletionCode }));
                return Results.File(System.Text.Encoding.UTF8.GetBytes(csv), "text/csv", $"participants-{id:N}.csv");
            })
            // Editors only: a platform participant id is what brings a participant back to their rater.
            .RequireCampaign(CampaignRole.Editor, ApiScopes.DatasetsRead)
            .WithName("ListParticipants").WithSummary("The campaign's people: platform participant id, study, session, pseudonym, labels, time spent and when the completion code was shown (CSV, or format=json)");

        group.MapGet("/erasures", async (Guid id, RaterDirectory raters, CancellationToken ct) => TypedResults.Ok(await raters.ErasuresAsync(id, ct)))
            .RequireCampaign(CampaignRole.Viewer, ApiScopes.CampaignsRead)
            .WithName("ListErasures").WithSummary("Every erasure of a rater's data from the campaign: who, when, and how much was deleted");

        group.MapGet("/invites", async (Guid id, InviteService invites, CancellationToken ct) => TypedResults.Ok(await invites.ListAsync(id, ct)))
            .RequireCampaign(CampaignRole.Viewer, ApiScopes.CampaignsRead)
            .WithName("ListInvites").WithSummary("The campaign's personal invite links (without their secret): when made, whether used and by which rater");

        group.MapPost("/invites", async (Guid id, CreateInvitesRequest request, HttpContext http, ClaimsPrincipal user, InviteService invites,
                IOptions<StudioOptions> options, CancellationToken ct) =>
            {
                var created = await invites.CreateAsync(id, request.Count, PublicBaseUrl(http, options.Value), user.Identity?.Name, ct);
                // A spreadsheet or a crowd-sourcing platform wants CSV; scripts want JSON.
                return http.Request.Headers.Accept.Any(a => a?.Contains("text/csv", StringComparison.OrdinalIgnoreCase) == true)
                    ? Results.File(System.Text.Encoding.UTF8.GetBytes(InviteService.ToCsv(created)), "text/csv", $"invites-{id:N}.csv")
                    : Results.Created($"/api/v1/campaigns/{id}/invites", new { invites = created });
            })
            .RequireCampaign(CampaignRole.Editor, ApiScopes.CampaignsWrite)
            .WithName("CreateInvites").WithSummary("A batch of personal invite links (count, at most 1000), each joining one rater; as JSON, or CSV with Accept: text/csv. The links are shown only in this answer");

        return api;
    }

    /// <summary>Where people reach the studio: the configured public URL, else this request's scheme and host.</summary>
    public static string PublicBaseUrl(HttpContext http, StudioOptions options) =>
        options.PublicUrl is { Length: > 0 } url ? url.TrimEnd('/') : $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}";
}
