using System.Buffers.Binary;
using Tern.Guest;
using Tern.Machine;
using Tern.Memory;

namespace Tern.Control.Progress;

/// <summary>
/// Reads a built-in guest's progress counters straight from its control pages (one 8-byte read per vCPU, cheap
/// enough to do several times a second), for the machine a description names.
/// </summary>
public sealed class GuestCounterReader
{
    private readonly GuestAddress[] controlPages;

    private GuestCounterReader(GuestLayout layout)
    {
        controlPages = layout.Vcpus.Select(v => v.ControlPage).ToArray();
        // Idle's counter counts timer ticks, which say nothing about how fast the guest runs.
        MeasuredVcpus = layout.Vcpus.Select(v => v.Workload.Kind != WorkloadKind.Idle).ToArray();
    }

    /// <summary>Which vCPUs' counters measure the guest's speed (all but idle ones).</summary>
    public IReadOnlyList<bool> MeasuredVcpus { get; }

    /// <summary>A reader for <paramref name="description"/>'s guest, or null when its workload is not a built-in one.</summary>
    public static GuestCounterReader? For(MachineDescription description)
    {
        if (!GuestWorkload.TryParse(description.Workload, out var workload, out _)) return null;
        try
        {
            return new GuestCounterReader(GuestLayout.Compute(workload!, description.MemoryBytes, description.VcpuCount));
        }
        catch (GuestConfigurationException)
        {
            return null;
        }
    }

    /// <summary>The counters now. The caller keeps <paramref name="memory"/> mapped (and its pages present) meanwhile.</summary>
    public ulong[] Read(IGuestMemory memory)
    {
        var counters = new ulong[controlPages.Length];
        for (int v = 0; v < counters.Length; v++)
            counters[v] = BinaryPrimitives.ReadUInt64LittleEndian(memory.GetSpan(controlPages[v].Add(ControlPage.Counter), sizeof(ulong)));
        return counters;
    }
}
