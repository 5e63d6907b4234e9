using System.Runtime.InteropServices;

namespace PreferenceStudio.Learning;

/// <summary>
/// Keeps the memory of freed tensors in the C heap for the next batch instead of handing it back to the kernel.
/// </summary>
/// <remarks>
/// libtorch allocates CPU tensors with glibc's malloc. By default glibc serves blocks over a (dynamic) threshold with
/// fresh mmap and returns them on free, and it trims the top of the heap once more than 128 KB is free there; either
/// way the next batch's activations land in pages the kernel must fault in and zero again (10% of
/// <c>studio bench train</c>'s profile was the page-fault handler; giving glibc such settings from the environment
/// alone doubled its pairs per second). Raising the mmap threshold to glibc's maximum (32 MB) and the trim threshold
/// to 1 GB keeps that memory for reuse; the cost is that the process keeps its peak heap size (tens of MB for chunked
/// reward-model batches, see <see cref="RewardModelOptions.ChunkSteps"/>).
/// Only on Linux with glibc; elsewhere, or where <c>mallopt</c> cannot be found (musl), nothing changes.
/// </remarks>
public static class NativeHeap
{
    private const int M_TRIM_THRESHOLD = -1;
    private const int M_MMAP_THRESHOLD = -3;
    private const int MmapThresholdBytes = 32 << 20;
    private const int TrimThresholdBytes = 1 << 30;
    private static int _done;

    /// <summary>The same settings as a <c>GLIBC_TUNABLES</c> value, for a process started with them (bench train's PyTorch reference).</summary>
    public static string GlibcTunables => $"glibc.malloc.mmap_threshold={MmapThresholdBytes}:glibc.malloc.trim_threshold={TrimThresholdBytes}";

    /// <summary>Applies the settings once per process; later calls do nothing. Returns whether glibc accepted them.</summary>
    internal static bool KeepFreedMemory()
    {
        if (Interlocked.Exchange(ref _done, 1) == 1 || !OperatingSystem.IsLinux()) return false;
        try
        {
            return mallopt(M_MMAP_THRESHOLD, MmapThresholdBytes) == 1 & mallopt(M_TRIM_THRESHOLD, TrimThresholdBytes) == 1;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
    }

    [DllImport("libc", ExactSpelling = true)]
    private static extern int mallopt(int param, int value);
}
