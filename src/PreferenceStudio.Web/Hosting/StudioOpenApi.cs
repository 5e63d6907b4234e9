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
