using Microsoft.AspNetCore.Mvc;
using PreferenceStudio.Web.Features.Access;
using PreferenceStudio.Web.Features.Hierarchy;
using PreferenceStudio.Web.Features.Raters;
using PreferenceStudio.Web.Hosting;

namespace PreferenceStudio.Web.Features.Rating;

/// <summary>
/// The rating flow over HTTP, for scripted and simulated raters: ask for the next pair, answer it. The rater is the one
/// the rater token (or the rater cookie) identifies, never a field of the request. The browser page uses the same
/// <see cref="RatingService"/>.
/// </summary>
public static class RatingApi
{
    public static RouteGroupBuilder MapRatingApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/campaigns/{id:guid}").WithTags("Rating");

        group.MapGet("/next", async (Guid id, HttpContext http, RatingService rating, CancellationToken ct) =>
            {
                if (http.Request.Query.ContainsKey("rater"))
                    throw StudioProblemException.Invalid("The rater comes from your rater token or cookie, not from the address: remove ?rater=.");
                return TypedResults.Ok(await rating.NextAsync(RaterContext.Current(http), ct));
            })
            .RequireRater()
            .WithName("NextPair").WithSummary("The pair the authenticated rater should compare now (served and timed from this moment)");

        group.MapPost("/labels", async (Guid id, LabelSubmission submission, HttpContext http, RatingService rating, CancellationToken ct) =>
                TypedResults.Ok(await rating.SubmitAsync(RaterContext.Current(http), submission, ct)))
            .RequireRater()
            .RequireRateLimiting(StudioAccessExtensions.LabelsLimit)
            .WithName("SubmitLabel").WithSummary("The authenticated rater answers a pair served to them; resending with the same idempotency_key stores it once");

        group.MapPost("/labels/undo", async (Guid id, HttpContext http, RatingService rating, CancellationToken ct) =>
                TypedResults.Ok(await rating.UndoLastAsync(RaterContext.Current(http), ct)))
            .RequireRater()
            .WithName("UndoLabel").WithSummary("The authenticated rater takes back their last answer while its round is open; the pair is offered again, the label kept as withdrawn");

        group.MapPost("/consent", async (Guid id, HttpContext http, RatingService rating, CancellationToken ct) =>
            {
                await rating.AcceptConsentAsync(RaterContext.Current(http), ct);
                return TypedResults.NoContent();
            })
            .RequireRater()
            .WithName("AcceptConsent").WithSummary("The authenticated rater accepts the campaign's consent text (pairs are served only after)");

        // The rater's other input: their ranking of the campaign's reward factors.
        api.MapRankingsApi();

        return api;
    }

    /// <summary>
    /// The join link. GET /join/{code} changes nothing (mail scanners and link previews open links too): it opens the
    /// rating page, which asks the person to join. POST /join/{code} (that page's form, with its antiforgery token)
    /// gives the browser a rater identity in the campaign (a protected cookie): an invite-only campaign needs
    /// <c>invite</c>, an unused personal invite of it; a full campaign takes nobody new. A browser that joined before
    /// keeps its identity.
    /// </summary>
    public static IEndpointRouteBuilder MapJoin(this IEndpointRouteBuilder app)
    {
        app.MapGet("/join/{code}", async (string code, HttpRequest request, RatingService rating, CancellationToken ct) =>
        {
            // A person followed this link: an empty 404 becomes the studio's not-found page.
            if (await rating.FindCampaignByJoinCodeAsync(code, ct) is null) return Results.NotFound();
            // The invite and the recruiting platform's parameters go on to the page's join form.
            var kept = new[] { "invite" }.Concat(Participant.ParameterNames)
                .Where(name => request.Query[name].ToString() is { Length: > 0 })
                .Select(name => $"{name}={Uri.EscapeDataString(request.Query[name].ToString())}");
            var query = string.Join('&', kept);
            return Results.Redirect($"/rate/{Uri.EscapeDataString(code)}" + (query.Length > 0 ? "?" + query : ""));
        })
        .AllowAnonymous()
        .WithName("JoinLink").ExcludeFromDescription();

        // Binding [FromForm] makes the antiforgery middleware check the form's token.
        app.MapPost("/join/{code}", async (string code, [FromForm] string? invite, HttpContext http, RatingService rating, RaterDirectory raters, CancellationToken ct) =>
        {
            if (await rating.FindCampaignByJoinCodeAsync(code, ct) is not { } campaignId) return Results.NotFound();
            var rate = $"/rate/{Uri.EscapeDataString(code)}";
            var participant = Participant.From(name => http.Request.Form[name].ToString());
            if (participant is null && (await RaterAuthentication.ReadAsync(http)).TryGetValue(campaignId, out var known)
                && await raters.FindAsync(campaignId, known, ct) is not null)
                return Results.Redirect(rate);
            var (rater, refusal) = await raters.JoinAsync(campaignId, invite, participant, ct);
            if (rater is null) return Results.Redirect($"{rate}?refused={refusal.ToString().ToLowerInvariant()}");
            await RaterAuthentication.SignInAsync(http, rater);
            return Results.Redirect(rate);
        })
        .AllowAnonymous()
        .RequireRateLimiting(StudioAccessExtensions.JoinLimit)
        .WithName("Join").ExcludeFromDescription();
        return app;
    }
}
