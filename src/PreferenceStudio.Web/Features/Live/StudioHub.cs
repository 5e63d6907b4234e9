using Microsoft.AspNetCore.SignalR;

namespace PreferenceStudio.Web.Features.Live;

/// <summary>
/// Live campaign updates for clients outside the Blazor circuit (scripts, dashboards, tests). A client calls
/// <see cref="WatchCampaign"/> and then receives "CampaignChanged" messages for that campaign.
/// </summary>
public sealed class StudioHub : Hub
{
    public const string Path = "/hubs/studio";

    public Task WatchCampaign(Guid campaignId) =>
        Groups.AddToGroupAsync(Context.ConnectionId, GroupFor(campaignId));

    public Task UnwatchCampaign(Guid campaignId) =>
        Groups.RemoveFromGroupAsync(Context.ConnectionId, GroupFor(campaignId));

    public static string GroupFor(Guid campaignId) => "campaign:" + campaignId.ToString("N");
}
