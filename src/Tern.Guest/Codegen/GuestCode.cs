using Tern.Memory;

namespace Tern.Guest.Codegen;

/// <summary>
/// The assembled guest code (64-bit part, then the 32-bit multiboot entry) and the addresses of its entry points,
/// for the builder (IDT, entry state) and for tests that disassemble it.
/// </summary>
internal sealed record GuestCode
{
    public required GuestAddress Base { get; init; }
    public required byte[] Bytes { get; init; }

    /// <summary>Where vCPU 0 starts: its workload's CPL3 entry, or the CPL0 idle entry.</summary>
    public required GuestAddress Entry { get; init; }

    /// <summary>The entry of each workload the vCPUs run.</summary>
    public required IReadOnlyDictionary<WorkloadKey, GuestAddress> Entries { get; init; }

    /// <summary>Where a vCPU running <paramref name="workload"/> starts.</summary>
    public GuestAddress EntryOf(WorkloadSpec workload) => Entries[WorkloadKey.Of(workload)];

    /// <summary>[start, end) of the code that runs at CPL3 (entry, banner, heartbeat, rate cap, write loop); empty for idle.</summary>
    public required GuestAddress UserCodeStart { get; init; }
    public required GuestAddress UserCodeEnd { get; init; }

    /// <summary>[start, end) of the per-write loop and the helpers it calls every chunk of writes.</summary>
    public required GuestAddress LoopStart { get; init; }
    public required GuestAddress LoopEnd { get; init; }

    /// <summary>Exception handlers for vectors 0-31.</summary>
    public required GuestAddress[] ExceptionHandlers { get; init; }
    public required GuestAddress TimerHandler { get; init; }
    public required GuestAddress SpuriousHandler { get; init; }

    /// <summary>fill's rest site (the ud2 whose #UD enters the CPL0 rest) and its rest timer handler; null when no vCPU runs fill.</summary>
    public GuestAddress? RestSite { get; init; }
    public GuestAddress? RestTimerHandler { get; init; }

    /// <summary>The 64-bit continuation of the multiboot entry (CPL0; sets up the same state as a direct entry).</summary>
    public required GuestAddress Boot64 { get; init; }

    /// <summary>The 32-bit multiboot entry point (protected mode, paging off): the start of the 32-bit part, the last in the blob.</summary>
    public required GuestAddress Boot32 { get; init; }
}

/// <summary>What decides which code a vCPU runs: its workload's kind and page content (the other options are data).</summary>
internal readonly record struct WorkloadKey(WorkloadKind Kind, PageContent Content)
{
    public static WorkloadKey Of(WorkloadSpec spec) => new(spec.Kind, spec.Content);
}
