using Tern.Guest;
using Tern.Machine;
using Tern.Machine.Kvm;
using Tern.Memory;

namespace Tern.Migration.Tests.Engine;

internal static class KvmGuests
{
    /// <summary>A KVM machine with a built-in workload loaded, not yet running.</summary>
    public static KvmMachine Boot(GuestWorkload spec, ulong memory, int vcpus, DirtyTrackingKind tracking = DirtyTrackingKind.Log)
    {
        var machine = KvmMachine.Create(new KvmMachineOptions(memory, vcpus) { Workload = spec.ToString(), DirtyTracking = tracking });
        try
        {
            var image = GuestImageBuilder.Build(spec, memory, new GuestBuildOptions(vcpus, (ulong)machine.TscKhz));
            machine.Load(GuestBoot.ToBootImage(image));
            return machine;
        }
        catch
        {
            machine.Dispose();
            throw;
        }
    }

    public static ulong[] Counters(WorkloadModel model, IVirtualMachine machine) =>
        model.ReadCounters(machine.Memory.GetSpan(GuestAddress.Zero, (int)Math.Min(machine.Memory.Size, int.MaxValue)));
}
