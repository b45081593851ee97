using Tern.Memory;

namespace Tern.Guest;

/// <summary>Where one vCPU's private structures live, and which part of the working set it writes.</summary>
public sealed record VcpuLayout
{
    public required int Index { get; init; }

    /// <summary>The control page: inputs from the builder, the progress counter, heartbeat count, panic record (see <see cref="ControlPage"/>).</summary>
    public required GuestAddress ControlPage { get; init; }

    /// <summary>The page used as the ring-0 stack for exceptions (TSS RSP0 and IST1 point at its top).
    /// Its first 16 bytes hold the control-page address and the vCPU index for the exception handlers.</summary>
    public required GuestAddress KernelStack { get; init; }

    public GuestAddress KernelStackTop => KernelStack.Add(PageSize.Bytes);

    /// <summary>The stack the workload runs on (at CPL3, or at CPL0 for idle).</summary>
    public required GuestRegion Stack { get; init; }

    public GuestAddress StackTop => Stack.End;

    /// <summary>This vCPU's 64-bit TSS (104 bytes in a 128-byte slot; its limit reaches over the shared I/O bitmap).</summary>
    public required GuestAddress Tss { get; init; }

    /// <summary>The TSS segment limit: from the TSS base to the last byte of the shared I/O permission bitmap.</summary>
    public required uint TssLimit { get; init; }

    /// <summary>GDT selector of this vCPU's TSS descriptor.</summary>
    public required ushort TssSelector { get; init; }

    public required VcpuSlice Slice { get; init; }

    /// <summary>What this vCPU runs: the guest's shared spec, or its own entry of a per-vCPU workload.</summary>
    public required WorkloadSpec Workload { get; init; }
}
