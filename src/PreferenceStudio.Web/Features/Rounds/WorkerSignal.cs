using PreferenceStudio.Web.Features.Live;

namespace PreferenceStudio.Web.Features.Rounds;

/// <summary>
/// Wakes the background workers when new durable work was queued, instead of waiting for their next poll: this node's
/// at once, every other node's through the database (<see cref="ClusterNotifier"/>, heard by their <see cref="ClusterListener"/>).
/// </summary>
public sealed class WorkerSignal(ClusterNotifier cluster)
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    /// <summary>Call after the transaction that queued the job committed, so a woken worker finds it.</summary>
    public void Wake()
    {
        WakeHere();
        _ = cluster.NotifyAsync(ClusterNotifier.JobsChannel, "");
    }

    /// <summary>Wakes this process's worker only.</summary>
    public void WakeHere()
    {
        // At most one pending wake-up: the worker drains the whole queue each time it wakes.
        if (_signal.CurrentCount == 0)
        {
            try { _signal.Release(); } catch (SemaphoreFullException) { }
        }
    }

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct) => _signal.WaitAsync(timeout, ct);
}
