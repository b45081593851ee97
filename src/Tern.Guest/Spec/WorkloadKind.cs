namespace Tern.Guest;

/// <summary>The built-in guest workloads. The spec name of each is its lower-case name.</summary>
public enum WorkloadKind
{
    /// <summary>Each vCPU halts and wakes on a ~1 kHz x2APIC timer; writes no memory. Runs at CPL0.</summary>
    Idle,

    /// <summary>The XBZRLE-thread load generator: <c>buf[k*1024]++</c> over a 16 MiB buffer, over and over.</summary>
    Stride,

    /// <summary>One 8-byte write in every 4 KiB page, sequentially through the working set.</summary>
    Seq,

    /// <summary>One 8-byte write per step to a page a stateless PRNG picks in the working set.</summary>
    Random,

    /// <summary>Like <see cref="Random"/>, but a write lands in the hot set with probability p, else in the cold rest.</summary>
    HotCold,

    /// <summary>Busy on the CPU: arithmetic in registers, counting iterations; writes only its own control page.</summary>
    Compute,

    /// <summary>
    /// Like <see cref="Seq"/>, but one pass only: each page of the working set is written once, then the vCPU rests
    /// (halts at CPL0 on a ~1 kHz timer that only heartbeats) and writes nothing more. A guest whose RAM is full and
    /// no longer changing. Declared last so that the numbering of the others is unchanged.
    /// </summary>
    Fill,
}
