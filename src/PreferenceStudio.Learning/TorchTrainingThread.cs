using System.Collections.Concurrent;
using TorchSharp;

namespace PreferenceStudio.Learning;

/// <summary>Settings of the torch worker: device ("auto" | "cpu" | "cuda") and intra-op threads (0 = libtorch default).</summary>
public sealed record TorchOptions
{
    public string Device { get; init; } = "auto";

    /// <summary>Threads libtorch may use; keep one core free for a web server. 0 leaves libtorch's default.</summary>
    public int Threads { get; init; }
}

/// <summary>
/// One long-lived thread that runs queued torch work one item at a time. TorchSharp's dispose scopes and no_grad are
/// bound to the thread that opens them, and a training loop must not hop threads at an await, so all training runs
/// here; callers await the returned task. Usable from a hosted service (register as a singleton) or the CLI.
/// </summary>
public sealed class TorchTrainingThread : IDisposable
{
    private readonly BlockingCollection<Action> _queue = new();
    private readonly Thread _thread;
    private readonly TaskCompletionSource<string> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _disposed;

    /// <param name="name">The thread's name (for debuggers and dumps); a process may run several, e.g. one for inference.</param>
    public TorchTrainingThread(TorchOptions? options = null, string name = "torch-training")
    {
        Options = options ?? new TorchOptions();
        _thread = new Thread(() => Run(Options)) { IsBackground = true, Name = name };
        _thread.Start();
    }

    public TorchOptions Options { get; }

    /// <summary>
    /// The device work should use ("cpu" or "cuda"), resolved on the thread from <see cref="TorchOptions.Device"/>.
    /// Faults when libtorch cannot load or the device is unavailable.
    /// </summary>
    public Task<string> Device => _ready.Task;

    /// <summary>Queues <paramref name="work"/> to run on the torch thread; the task completes with its result or exception.</summary>
    public Task<T> RunAsync<T>(Func<T> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _queue.Add(() =>
        {
            if (cancellationToken.IsCancellationRequested)
            {
                done.TrySetCanceled(cancellationToken);
                return;
            }
            try { done.TrySetResult(work()); }
            catch (OperationCanceledException e) when (cancellationToken.IsCancellationRequested) { done.TrySetCanceled(e.CancellationToken); }
            catch (Exception e) { done.TrySetException(e); }
        }, CancellationToken.None);
        return done.Task;
    }

    /// <summary>Stops taking work, lets queued items finish and waits for the thread.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        _queue.CompleteAdding();
        if (Thread.CurrentThread != _thread) _thread.Join();
        _queue.Dispose();
    }

    private void Run(TorchOptions options)
    {
        try
        {
            NativeHeap.KeepFreedMemory();
            if (options.Threads > 0) torch.set_num_threads(options.Threads);
            var device = TorchDevices.Resolve(options.Device);
            _ready.TrySetResult(device.type == DeviceType.CUDA ? "cuda" : "cpu");
        }
        catch (Exception e)
        {
            _ready.TrySetException(e);
        }
        foreach (var item in _queue.GetConsumingEnumerable()) item();
    }
}
