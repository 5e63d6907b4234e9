using PreferenceStudio.Web.Features.Hierarchy;

namespace PreferenceStudio.Web.Features.Rating;

/// <summary>
/// The rating flow over HTTP, for scripted and simulated raters: ask for the next pair, answer it. The browser page
/// uses the same <see cref="RatingService"/>.
/// </summary>
public static class RatingApi
{
    public static RouteGroupBuilder MapRatingApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/campaigns/{id:guid}").WithTags("Rating");

        group.MapGet("/next", async (Guid id, string rater, RatingService rating, CancellationToken ct) =>
                TypedResults.Ok(await rating.NextAsync(id, rater, ct)))
            .WithName("NextPair").WithSummary("The pair this rater should compare now (served and timed from this moment)");

        group.MapPost("/labels", async (Guid id, LabelSubmission submission, RatingService rating, CancellationToken ct) =>
            {
                var receipt = await rating.SubmitAsync(submission, ct);
                return TypedResults.Ok(receipt);
            })
            .WithName("SubmitLabel").WithSummary("Answer a served pair; resending with the same idempotency_key stores it once");

        // The rater's other input: their ranking of the campaign's reward factors.
        api.MapRankingsApi();

        return api;
    }

    /// <summary>GET /join/{code}: gives the browser a pseudonymous rater id (cookie) and opens the rating page.</summary>
    public static IEndpointRouteBuilder MapJoin(this IEndpointRouteBuilder app)
    {
        app.MapGet("/join/{code}", async (string code, HttpContext http, RatingService rating, CancellationToken ct) =>
        {
            // A person followed this link: an empty 404 becomes the studio's not-found page.
            if (await rating.FindCampaignByJoinCodeAsync(code, ct) is null) return Results.NotFound();
            var rater = await rating.EnsureRaterAsync(RaterCookie.Read(http), ct: ct);
            RaterCookie.Write(http, rater);
            return Results.Redirect($"/rate/{Uri.EscapeDataString(code)}");
        }).WithName("Join").ExcludeFromDescription();
        return app;
    }
}
