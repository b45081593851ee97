using System.Diagnostics;
using Tern.Guest;
using Tern.Guest.Multiboot;
using Tern.Memory;

namespace Tern.Bench.Macro;

/// <summary>
/// The exported guest of one scenario (<see cref="MultibootExporter"/>, the file <c>tern guest export</c> writes),
/// where its write counter lies, and when it is ready to be migrated: the same for QEMU and Tern, which differ only
/// in how they read the counter.
/// </summary>
public sealed class VersusGuest
{
    private static readonly TimeSpan WarmUpLimit = TimeSpan.FromSeconds(120);

    public VersusGuest(VersusScenario scenario, ulong memory)
    {
        Scenario = scenario;
        Memory = memory;
        var spec = WorkloadSpec.Parse(scenario.Workload);
        Kernel = MultibootExporter.Export(spec, memory, TscFrequency.HostKhzOrFallback());
        var layout = MultibootImage.Load(Kernel, memory).Layout ?? throw new InvalidOperationException("the exported guest has no Tern layout");
        Counter = layout.Vcpus[0].ControlPage.Add(ControlPage.Counter);
        SlicePages = layout.Vcpus[0].Slice.RegionAPages;
        WritesPerPage = spec.WritesPerPage;
    }

    public VersusScenario Scenario { get; }
    public ulong Memory { get; }
    public byte[] Kernel { get; }
    /// <summary>Guest-physical address of vCPU 0's write counter (the only vCPU).</summary>
    public GuestAddress Counter { get; }
    private ulong SlicePages { get; }
    private int WritesPerPage { get; }

    /// <summary>
    /// Waits until the guest is in its steady state: two sweeps over its working set (the first touches fresh
    /// memory), a filling guest full and resting, an idle one booted for half a second.
    /// </summary>
    public void WaitUntilReady(Func<ulong> counter)
    {
        var clock = Stopwatch.StartNew();
        ulong target = Scenario.FillThenIdle ? SlicePages : 2 * SlicePages * (ulong)WritesPerPage;
        while (counter() < target)
        {
            if (clock.Elapsed > WarmUpLimit) throw new TimeoutException($"the guest ({Scenario.Workload}) did not reach {target} writes within {WarmUpLimit.TotalSeconds:0} s");
            Thread.Sleep(20);
        }
        Thread.Sleep(Scenario.FillThenIdle || !Scenario.CountsWork ? 500 : 0); // resting: only heartbeats from here on
    }

    /// <summary>The guest's writes per second over one second (as it runs just before the migration).</summary>
    public static double WritesPerSecond(Func<ulong> counter)
    {
        ulong before = counter();
        var clock = Stopwatch.StartNew();
        Thread.Sleep(1000);
        return (counter() - before) / clock.Elapsed.TotalSeconds;
    }
}

/// <summary>What one migration of one scenario measured, under either VMM.</summary>
/// <param name="GuestStopMs">Heartbeat gap across the switchover: the source's last beat to the destination's first.</param>
/// <param name="WritesBefore">Guest writes per second in the second before the migration.</param>
/// <param name="WritesDuring">Guest writes per second from the start of the migration to the source's stop (progress / total time).</param>
/// <param name="XbzrleCacheBytes">The XBZRLE cache used (QEMU: as set; Tern: as its automatic sizing chose), 0 without XBZRLE.</param>
public sealed record VersusOutcome(bool Completed, double TotalMs, double DowntimeMs, double GuestStopMs, double WritesBefore, double WritesDuring,
    double TransferredBytes, double XbzrleCacheBytes, string? Error = null)
{
    public double WireBytesPerSecond => TransferredBytes / (TotalMs / 1000);

    public override string ToString() => !Completed ? $"did not complete: {Error}" :
        $"total {TotalMs:0} ms, downtime {DowntimeMs:0} ms, guest stop {GuestStopMs:0.0} ms, {Units.Count(WritesDuring)} writes/s during " +
        $"(before {Units.Count(WritesBefore)}), {TransferredBytes / (1 << 20):0} MiB sent ({WireBytesPerSecond / (1 << 20):0} MiB/s)" +
        (XbzrleCacheBytes > 0 ? $", XBZRLE cache {XbzrleCacheBytes / (1 << 20):0} MiB" : "");
}
