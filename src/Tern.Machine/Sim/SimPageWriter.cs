using Tern.Guest;
using Tern.Memory;
using Tern.Memory.Dirty;

namespace Tern.Machine.Sim;

/// <summary>
/// Where a simulated vCPU's writes go: guest RAM, with every page it touches reported to the software dirty
/// tracker (the simulation's stand-in for KVM's write protection).
/// </summary>
internal readonly struct SimPageWriter(GuestRam ram, SoftwareDirtyTracker tracker, int vcpu) : IGuestPageWriter
{
    public Span<byte> Page(PageIndex page)
    {
        tracker.MarkDirty(page, vcpu);
        return ram.GetPageSpan(page);
    }
}
