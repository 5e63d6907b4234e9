using PreferenceStudio.Core.Data.Access;
using PreferenceStudio.Web.Features.Access;

namespace PreferenceStudio.Web.Features.Members;

/// <summary>A campaign's researchers and their roles, under /api/v1/campaigns/{id}/members; owners change them.</summary>
public static class MembersApi
{
    public static RouteGroupBuilder MapMembersApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/campaigns/{id:guid}/members").WithTags("Members");

        group.MapGet("/", async (Guid id, CampaignMembers members, CancellationToken ct) => TypedResults.Ok(await members.ListAsync(id, ct)))
            .RequireCampaign(CampaignRole.Viewer, ApiScopes.CampaignsRead)
            .WithName("ListMembers").WithSummary("The campaign's researchers and their roles");

        group.MapPut("/", async (Guid id, MemberRequest request, CampaignMembers members, CancellationToken ct) => TypedResults.Ok(await members.SetAsync(id, request, ct)))
            .RequireCampaign(CampaignRole.Owner, ApiScopes.CampaignsWrite)
            .WithName("SetMember").WithSummary("Add a researcher (by their account's email) as owner, editor or viewer, or change their role");

        group.MapDelete("/{userId}", async (Guid id, string userId, CampaignMembers members, CancellationToken ct) =>
            {
                await members.RemoveAsync(id, userId, ct);
                return TypedResults.NoContent();
            })
            .RequireCampaign(CampaignRole.Owner, ApiScopes.CampaignsWrite)
            .WithName("RemoveMember").WithSummary("Remove a researcher from the campaign (a campaign keeps at least one owner)");

        return api;
    }
}
