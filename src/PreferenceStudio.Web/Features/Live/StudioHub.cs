using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using PreferenceStudio.Core.Data.Access;
using PreferenceStudio.Web.Features.Access;

namespace PreferenceStudio.Web.Features.Live;

/// <summary>
/// Live campaign updates for clients outside the Blazor circuit (scripts, dashboards, tests). A client calls
/// <see cref="WatchCampaign"/> and then receives "CampaignChanged" messages for that campaign. Only accounts connect
/// (signed in, or an API token with campaigns:read, sent as a bearer header or as access_token), and each may watch
/// only the campaigns they are a member of.
/// </summary>
[Authorize(Policy = StudioPolicies.Account)]
[Authorize(Policy = "scope:" + ApiScopes.CampaignsRead)]
public sealed class StudioHub(CampaignAccess access) : Hub
{
    public const string Path = "/hubs/studio";

    public async Task WatchCampaign(Guid campaignId)
    {
        await RequireViewerAsync(campaignId);
        await Groups.AddToGroupAsync(Context.ConnectionId, GroupFor(campaignId));
    }

    public async Task UnwatchCampaign(Guid campaignId)
    {
        await RequireViewerAsync(campaignId);
        await Groups.RemoveFromGroupAsync(Context.ConnectionId, GroupFor(campaignId));
    }

    private async Task RequireViewerAsync(Guid campaignId)
    {
        var (exists, role) = await access.RoleAsync(Context.User!, campaignId, Context.ConnectionAborted);
        if (!exists) throw new HubException($"No campaign {campaignId}.");
        if (role is null) throw new HubException($"You are not a member of campaign {campaignId}; one of its owners can add you.");
    }

    public static string GroupFor(Guid campaignId) => "campaign:" + campaignId.ToString("N");
}
