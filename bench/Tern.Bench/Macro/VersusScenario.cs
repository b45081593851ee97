namespace Tern.Bench.Macro;

/// <summary>
/// One row of issue 12's side-by-side table: what the exported guest runs and how it is migrated, the same for QEMU
/// and for Tern.
/// </summary>
/// <param name="Name">Its name for <c>--only</c>.</param>
/// <param name="Workload">The guest's workload spec (as <c>tern guest export --workload</c> takes it).</param>
/// <param name="MaxBandwidth">The link cap in bytes per second; 0 = none.</param>
/// <param name="Xbzrle">Whether both migrate with the XBZRLE capability on.</param>
/// <param name="QemuXbzrleCache">QEMU's xbzrle-cache-size, set by hand; 0 keeps QEMU's default (64 MiB). Tern's cache is always automatic.</param>
/// <param name="FillThenIdle">The guest fills its working set once and rests: migrate only once it has, next to loopback TCP.</param>
public sealed record VersusScenario(string Name, string Workload, ulong MaxBandwidth, bool Xbzrle, ulong QemuXbzrleCache = 0, bool FillThenIdle = false)
{
    private const ulong MiB = 1 << 20;

    /// <summary>Issue 12's scenarios, in its order, for a guest of <paramref name="memory"/> bytes.</summary>
    public static IReadOnlyList<VersusScenario> All(ulong memory) =>
    [
        new("idle", "idle", 0, Xbzrle: false),
        new("stride", "stride", 1024 * MiB, Xbzrle: false),
        new("stride-xbzrle", "stride", 1024 * MiB, Xbzrle: true),
        new("seq-xbzrle", "seq:ws=512M", 100 * MiB, Xbzrle: true, QemuXbzrleCache: 512 * MiB),
        new("random-xbzrle", "random:ws=256M", 200 * MiB, Xbzrle: true, QemuXbzrleCache: 256 * MiB),
        // All of RAM above the guest's own first 2 MiB (image, page tables, control pages).
        new("fill", $"fill:ws={(memory - Tern.Guest.GuestLayout.LargePageBytes) >> 20}M", 0, Xbzrle: false, FillThenIdle: true),
    ];

    /// <summary>How the table names it: the workload, the cap and the encoding.</summary>
    public string Label => $"{(FillThenIdle ? "fill-then-idle " : "")}{Workload}, {(MaxBandwidth == 0 ? "no cap" : Units.Count(MaxBandwidth / (double)MiB) + " MiB/s")}" +
        (Xbzrle ? $", XBZRLE (QEMU cache {(QemuXbzrleCache == 0 ? "default 64 MiB" : Units.Gib(QemuXbzrleCache))})" : "");

    /// <summary>Whether the guest's write counter measures work (idle counts timer ticks; fill stops once full).</summary>
    public bool CountsWork => !FillThenIdle && Workload != "idle";
}
