using System.Text.Json;
using Npgsql;
using PreferenceStudio.Web.Features.Rounds;

namespace PreferenceStudio.Web.Features.Live;

/// <summary>
/// Holds one connection that LISTENs for the studio's signals (<see cref="ClusterNotifier"/>) and hands them to this
/// node: campaign changes to its pages and hub clients, queued jobs to its worker. Reconnects with back-off when the
/// database goes away; on reconnecting it wakes the worker, since jobs may have been queued meanwhile.
/// </summary>
public sealed class ClusterListener(ClusterNotifier notifier, CampaignEvents events, WorkerSignal worker, ILogger<ClusterListener> logger)
    : BackgroundService
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(250), LastRetry = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Off the host's start: a database that is down (retried for half a minute) must not hold up serving /health.
        await Task.Yield();
        var retry = FirstRetry;
        bool lost = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await notifier.OpenConnectionAsync(stoppingToken);
                connection.Notification += (_, e) => Receive(e.Channel, e.Payload);
                await using (var listen = new NpgsqlCommand($"LISTEN {ClusterNotifier.EventsChannel}; LISTEN {ClusterNotifier.JobsChannel}", connection))
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                notifier.Listening = true;
                retry = FirstRetry;
                if (lost) logger.LogInformation("Listening to the database's notifications again");
                lost = false;
                worker.WakeHere();
                while (true) await connection.WaitAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                notifier.Listening = false;
                if (!lost) logger.LogWarning("Lost the database's notifications ({Error}); reconnecting", ex.Message);
                lost = true;
                try { await Task.Delay(retry, stoppingToken); } catch (OperationCanceledException) { break; }
                retry = TimeSpan.FromTicks(Math.Min(LastRetry.Ticks, retry.Ticks * 2));
            }
        }
        notifier.Listening = false;
    }

    private void Receive(string channel, string payload)
    {
        if (channel == ClusterNotifier.JobsChannel)
        {
            worker.WakeHere();
            return;
        }
        CampaignChanged? change;
        try
        {
            change = JsonSerializer.Deserialize<CampaignChanged>(payload);
        }
        catch (JsonException ex)
        {
            logger.LogWarning("Ignored an unreadable campaign change ({Error}): {Payload}", ex.Message, payload);
            return;
        }
        // Off the connection's read loop: a slow page must not hold up the next signal.
        if (change is not null) _ = Task.Run(() => events.DeliverAsync(change));
    }
}
