namespace PreferenceStudio.Web.Features.Rounds;

/// <summary>Wakes the background worker when new durable work was queued, instead of waiting for its next poll.</summary>
public sealed class WorkerSignal
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    public void Wake()
    {
        // At most one pending wake-up: the worker drains the whole queue each time it wakes.
        if (_signal.CurrentCount == 0)
        {
            try { _signal.Release(); } catch (SemaphoreFullException) { }
        }
    }

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct) => _signal.WaitAsync(timeout, ct);
}
