using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR;

namespace PreferenceStudio.Web.Features.Live;

/// <summary>What changed in a campaign; pages reload the part they show.</summary>
public enum CampaignChangeKind { Status, Labels, RoundOpened, RoundClosed, Metrics, Training, PolicyTraining, Failure, Rankings, Planning, Rendering }

/// <summary>One change, as pushed to pages and hub clients.</summary>
/// <param name="Done">With <paramref name="Total"/>, how far a stage is (clips rendered of the round's).</param>
public sealed record CampaignChanged(Guid CampaignId, CampaignChangeKind Kind, int? RoundIndex = null, string? Message = null,
    int? Epoch = null, double? Loss = null, string? Model = null, int? Done = null, int? Total = null);

/// <summary>
/// Fans campaign changes out to every node of the studio: published through the database (<see cref="ClusterNotifier"/>),
/// each node's <see cref="ClusterListener"/> hands them to the Blazor components in its process (an in-process event:
/// they render on the server) and to its SignalR hub clients. A change raised while the database is out of reach still
/// reaches this node's own pages.
/// </summary>
public sealed class CampaignEvents(IHubContext<StudioHub> hub, ClusterNotifier cluster, ILogger<CampaignEvents> logger)
{
    public event Action<CampaignChanged>? Changed;

    /// <summary>How often, at most, a campaign's label progress is pushed: a burst of answers becomes a few updates a second.</summary>
    public static readonly TimeSpan LabelsEvery = TimeSpan.FromMilliseconds(250);

    private readonly ConcurrentDictionary<Guid, CampaignChanged> _latestLabels = new();
    private readonly ConcurrentDictionary<Guid, byte> _flushing = new();

    /// <summary>
    /// Reports that a campaign's labels changed, with the round's count as raters see it (<see cref="CampaignChanged.Done"/>
    /// of <see cref="CampaignChanged.Total"/>): coalesced per campaign and pushed at most every <see cref="LabelsEvery"/>,
    /// so pages show the count pushed to them instead of each asking the database on every answer.
    /// </summary>
    public void LabelsChanged(Guid campaignId, int roundIndex, int count, int wanted)
    {
        var change = new CampaignChanged(campaignId, CampaignChangeKind.Labels, roundIndex, Done: count, Total: wanted);
        // Answers finish out of order: within a window the highest count of the newest round wins.
        _latestLabels.AddOrUpdate(campaignId, change, (_, old) =>
            old.RoundIndex > roundIndex || (old.RoundIndex == roundIndex && old.Done > count) ? old : change);
        if (_flushing.TryAdd(campaignId, 0)) _ = FlushLabelsAsync(campaignId);
    }

    private async Task FlushLabelsAsync(Guid campaignId)
    {
        try
        {
            await Task.Delay(LabelsEvery);
            // Cleared before taking the change: a report arriving now schedules the next push rather than being lost.
            _flushing.TryRemove(campaignId, out _);
            if (_latestLabels.TryRemove(campaignId, out var change)) await PublishAsync(change);
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Pushing label progress of campaign {Campaign} failed", campaignId);
        }
    }

    public async Task PublishAsync(CampaignChanged change)
    {
        if (change.Message is { Length: > ClusterNotifier.MaxMessageLength } long_)
            change = change with { Message = long_[..ClusterNotifier.MaxMessageLength] + "…" };
        bool sent = await cluster.NotifyAsync(ClusterNotifier.EventsChannel, JsonSerializer.Serialize(change));
        // Not listening (yet, or for a moment): this node would not hear its own change back, so it delivers it here.
        if (!sent || !cluster.Listening) await DeliverAsync(change);
    }

    /// <summary>Hands a change to this node's pages and hub clients (called for every change any node published).</summary>
    public async Task DeliverAsync(CampaignChanged change)
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
        try
        {
            await hub.Clients.Group(StudioHub.GroupFor(change.CampaignId)).SendAsync("CampaignChanged", change);
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Sending {Change} to hub clients failed", change);
        }
    }
}
