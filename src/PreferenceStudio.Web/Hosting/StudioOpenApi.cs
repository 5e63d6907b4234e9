using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using PreferenceStudio.Web.Features.Access;

namespace PreferenceStudio.Web.Hosting;

/// <summary>
/// The OpenAPI document declares the bearer scheme, and each operation lists what it needs: the account or rater
/// identity, the campaign role and the API-token scope (from the endpoint's own authorization metadata, so the
/// document cannot drift from what is enforced).
/// </summary>
public static class StudioOpenApi
{
    public const string SchemeName = "bearer";

    public static void Configure(OpenApiOptions o)
    {
        o.AddDocumentTransformer((document, context, ct) =>
        {
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[SchemeName] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "A researcher's API token (pst_..., made on the Tokens page or with `studio tokens create`, with scopes "
                    + string.Join(", ", PreferenceStudio.Core.Data.Access.ApiScopes.All) + ") or a scripted rater's token (psr_..., from POST /api/v1/campaigns/{id}/raters).",
            };
            return Task.CompletedTask;
        });
        o.AddOperationTransformer(AddErrorResponsesAsync);
        o.AddOperationTransformer((operation, context, ct) =>
        {
            var metadata = context.Description.ActionDescriptor.EndpointMetadata;
            if (metadata.OfType<IAllowAnonymous>().Any()) return Task.CompletedTask;
            var policies = metadata.OfType<IAuthorizeData>().Select(a => a.Policy).OfType<string>().ToList();
            if (policies.Count == 0) return Task.CompletedTask;
            var scopes = policies.Where(p => p.StartsWith("scope:", StringComparison.Ordinal)).Select(p => p["scope:".Length..]).ToList();
            var who = policies.Where(p => !p.StartsWith("scope:", StringComparison.Ordinal)).Select(Describe).ToList();
            operation.Security ??= [];
            operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(SchemeName, context.Document)] = scopes });
            operation.Description = ((operation.Description is { Length: > 0 } d ? d + "\n\n" : "")
                + $"Needs: {string.Join("; ", who)}" + (scopes.Count > 0 ? $"; an API token needs the scope {string.Join(", ", scopes)}." : "."));
            return Task.CompletedTask;
        });
    }

    /// <summary>
    /// The errors every operation can answer, as ProblemDetails, unless it declares them itself: 401 and 403 where an
    /// identity is needed, 404 where the path names something, 400 where a body or query is read, and 503 when the
    /// database is out of reach (StudioExceptionHandler).
    /// </summary>
    private static async Task AddErrorResponsesAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken ct)
    {
        var description = context.Description;
        var metadata = description.ActionDescriptor.EndpointMetadata;
        bool open = metadata.OfType<IAllowAnonymous>().Any() || !metadata.OfType<IAuthorizeData>().Any();
        var problem = await context.GetOrCreateSchemaAsync(typeof(Microsoft.AspNetCore.Mvc.ProblemDetails), null, ct);
        operation.Responses ??= new OpenApiResponses();
        void Add(int status, string why)
        {
            var key = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (operation.Responses.ContainsKey(key)) return;
            operation.Responses[key] = new OpenApiResponse
            {
                Description = why,
                Content = new Dictionary<string, OpenApiMediaType> { ["application/problem+json"] = new() { Schema = problem } },
            };
        }
        var sources = description.ParameterDescriptions.Select(p => p.Source.Id).ToHashSet();
        if (sources.Contains("Body") || sources.Contains("Query") || description.HttpMethod is "POST" or "PUT")
            Add(StatusCodes.Status400BadRequest, "The request is not usable: the detail (and errors, per field) say what to fix.");
        if (!open)
        {
            Add(StatusCodes.Status401Unauthorized, "No identity, or a forged, revoked or expired one.");
            Add(StatusCodes.Status403Forbidden, "The identity lacks the role or token scope this operation needs (see its description).");
        }
        if (description.RelativePath?.Contains('{') == true)
            Add(StatusCodes.Status404NotFound, "Nothing with that id (or you may not know of it).");
        Add(StatusCodes.Status503ServiceUnavailable, "The database is out of reach for the moment; send the request again (Retry-After).");
    }

    private static string Describe(string policy) => policy switch
    {
        StudioPolicies.Account => "an account (admin or researcher)",
        StudioPolicies.Admin => "an admin",
        StudioPolicies.CampaignViewer => "a viewer, editor or owner of the campaign, or an admin",
        StudioPolicies.CampaignEditor => "an editor or owner of the campaign, or an admin",
        StudioPolicies.CampaignOwner => "an owner of the campaign, or an admin",
        StudioPolicies.CampaignRater => "a rater of the campaign (rater token or rater cookie)",
        _ => policy,
    };
}
