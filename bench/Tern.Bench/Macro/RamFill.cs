using System.Runtime.InteropServices;
using Tern.Guest;
using Tern.Machine;
using Tern.Memory;

namespace Tern.Bench.Macro;

/// <summary>
/// Makes an idle guest look like one that has used all its memory: fills RAM above the guest's own pages (its image,
/// control pages and working set stay as the guest wrote them) with non-zero words that differ from page to page, so
/// that every page must travel whole. An idle guest's untouched RAM is a memfd hole that the first pass skips, which
/// measures the hole scan rather than the link.
/// </summary>
public static class RamFill
{
    private const int ChunkBytes = 64 << 20;

    /// <summary>Fills from the end of the workload's working set to the end of RAM; returns the bytes filled.</summary>
    public static ulong AboveGuest(IVirtualMachine machine, WorkloadSpec workload)
    {
        var layout = GuestLayout.Compute(workload, machine.Memory.Size, machine.Description.VcpuCount);
        ulong start = AlignUp(layout.WorkingSet.End.Value, GuestLayout.LargePageBytes);
        ulong end = machine.Memory.Size;
        for (ulong at = start; at < end; at += ChunkBytes)
        {
            int length = (int)Math.Min(ChunkBytes, end - at);
            var words = MemoryMarshal.Cast<byte, ulong>(machine.Memory.GetSpan(new GuestAddress(at), length));
            ulong first = at / sizeof(ulong);
            // A multiplicative hash of the word's index: never zero (low bit set), no two pages alike.
            for (int i = 0; i < words.Length; i++) words[i] = ((first + (ulong)i) * 0x9E37_79B9_7F4A_7C15UL) | 1;
        }
        return end > start ? end - start : 0;
    }

    private static ulong AlignUp(ulong value, ulong alignment) => (value + alignment - 1) / alignment * alignment;
}
