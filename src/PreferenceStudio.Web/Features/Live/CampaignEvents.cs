using Microsoft.AspNetCore.SignalR;

namespace PreferenceStudio.Web.Features.Live;

/// <summary>What changed in a campaign; pages reload the part they show.</summary>
public enum CampaignChangeKind { Status, Labels, RoundOpened, RoundClosed, Metrics, Training, PolicyTraining, Failure, Rankings, Planning, Rendering }

/// <summary>One change, as pushed to pages and hub clients.</summary>
/// <param name="Done">With <paramref name="Total"/>, how far a stage is (clips rendered of the round's).</param>
public sealed record CampaignChanged(Guid CampaignId, CampaignChangeKind Kind, int? RoundIndex = null, string? Message = null,
    int? Epoch = null, double? Loss = null, string? Model = null, int? Done = null, int? Total = null);

/// <summary>
/// Fans campaign changes out to Blazor components in this process (an in-process event: they render on the server)
/// and to SignalR hub clients. With several web nodes a backplane carries the hub side.
/// </summary>
public sealed class CampaignEvents(IHubContext<StudioHub> hub, ILogger<CampaignEvents> logger)
{
    public event Action<CampaignChanged>? Changed;

    public async Task PublishAsync(CampaignChanged change)
    {
        try
        {
            Changed?.Invoke(change);
        }
        catch (Exception ex)
        {
            // A page that failed to refresh must not fail the work that raised the event.
            logger.LogWarning(ex, "A subscriber failed on {Change}", change);
        }
        await hub.Clients.Group(StudioHub.GroupFor(change.CampaignId)).SendAsync("CampaignChanged", change);
    }
}
