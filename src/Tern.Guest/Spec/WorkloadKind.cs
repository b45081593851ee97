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
}
