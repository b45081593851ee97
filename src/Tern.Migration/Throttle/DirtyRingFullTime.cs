namespace Tern.Migration.Throttle;

/// <summary>
/// QEMU 8.1's <c>dirty-limit-ring-full-time</c>: how long, on average, a vCPU takes to fill its dirty ring, from the
/// ring's size (entries × page size of memory it can name) and the vCPUs' mean measured dirty rate. A rough gauge of
/// the guest's write load: a short time means frequent ring-full exits. Zero means the guest dirties nothing (as in QEMU).
/// </summary>
public static class DirtyRingFullTime
{
    /// <summary>The time in microseconds; 0 when the rings are empty or nothing was dirtied.</summary>
    /// <param name="ringEntries">Entries in each vCPU's ring.</param>
    /// <param name="perVcpuBytesPerSecond">Each vCPU's measured dirty rate.</param>
    public static long Microseconds(int ringEntries, IReadOnlyList<double> perVcpuBytesPerSecond)
    {
        if (ringEntries <= 0 || perVcpuBytesPerSecond.Count == 0) return 0;
        double mean = perVcpuBytesPerSecond.Average();
        if (!(mean > 0)) return 0;
        double ringMemory = ringEntries * (double)Tern.Memory.PageSize.Bytes;
        return (long)Math.Round(ringMemory / mean * 1e6);
    }
}
