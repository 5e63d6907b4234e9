using PreferenceStudio.Learning;
using TorchSharp;

namespace PreferenceStudio.Tests.Learning;

public class TorchTrainingThreadTests
{
    [Fact]
    public async Task Runs_all_work_on_one_thread_and_returns_results()
    {
        using var worker = new TorchTrainingThread(new TorchOptions { Device = "cpu", Threads = 1 });
        Assert.Equal("cpu", await worker.Device);
        int first = await worker.RunAsync(() => Environment.CurrentManagedThreadId);
        int second = await worker.RunAsync(() => Environment.CurrentManagedThreadId);
        Assert.Equal(first, second);
        Assert.NotEqual(Environment.CurrentManagedThreadId, first);
        float sum = await worker.RunAsync(() =>
        {
            using var scope = torch.NewDisposeScope();
            return torch.ones(3).sum().ToSingle();
        });
        Assert.Equal(3f, sum);
        Assert.Equal(1, await worker.RunAsync(() => torch.get_num_threads()));
    }

    [Fact]
    public async Task Exceptions_and_cancellation_reach_the_caller()
    {
        using var worker = new TorchTrainingThread(new TorchOptions { Device = "cpu" });
        await Assert.ThrowsAsync<InvalidOperationException>(() => worker.RunAsync<int>(() => throw new InvalidOperationException("boom")));
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => worker.RunAsync(() => 1, cts.Token));
        Assert.Equal(2, await worker.RunAsync(() => 2));
    }

    [Fact]
    public async Task Unknown_device_name_faults_the_device_task()
    {
        using var worker = new TorchTrainingThread(new TorchOptions { Device = "tpu" });
        await Assert.ThrowsAsync<ArgumentException>(() => worker.Device);
    }
}
