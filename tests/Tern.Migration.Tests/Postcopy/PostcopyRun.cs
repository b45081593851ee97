using Tern.Guest;
using Tern.Machine;
using Tern.Machine.Kvm;
using Tern.Machine.Sim;
using Tern.Memory;
using Tern.Migration.Api;
using Tern.Migration.Engine;
using Tern.Migration.Tests.Engine;

namespace Tern.Migration.Tests.Postcopy;

/// <summary>A guest of either backend on both sides of a loopback migration with postcopy-ram on (and x-verify).</summary>
internal static class PostcopyRun
{
    public const ulong Memory = 64 << 20;

    public static LocalMigration Create(MachineBackend backend, string workload, int vcpus = 2, ulong memory = Memory, DestinationLimits? destinationLimits = null)
    {
        LocalMigration m;
        if (backend == MachineBackend.Kvm)
        {
            RequireKvm.Present();
            var source = KvmGuests.Boot(WorkloadSpec.Parse(workload), memory, vcpus);
            m = new LocalMigration(source, d => KvmMachine.Create(new KvmMachineOptions(d.MemoryBytes, d.VcpuCount) { Workload = d.Workload }),
                destinationLimits: destinationLimits);
        }
        else
        {
            m = LocalMigration.Sim(workload, memory, vcpus, destinationLimits: destinationLimits);
        }
        m.Settings.SetCapability(MigrationCapability.PostcopyRam, true);
        m.Settings.SetCapability(MigrationCapability.Verify, true);
        // The first pass takes a few hundred ms, so the guest dirties pages behind it that post-copy must fetch.
        m.Settings.SetParameters(new MigrationParameters { MaxBandwidth = 128 << 20 });
        return m;
    }

    /// <summary>The destination's guest, paused, with all of its RAM checked against its model; its counters went on from the source's.</summary>
    public static void VerifyDestination(LocalMigration m, string workload, int vcpus = 2, ulong memory = Memory)
    {
        var destination = m.DestinationMachine!;
        var model = new WorkloadModel(GuestLayout.Compute(WorkloadSpec.Parse(workload), memory, vcpus));
        var atArrival = KvmGuests.Counters(model, destination);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < deadline && !AllAdvanced(atArrival, KvmGuests.Counters(model, destination))) Thread.Sleep(20);
        destination.Pause();
        Assert.Null(destination.Fault);
        var later = KvmGuests.Counters(model, destination);
        for (int v = 0; v < vcpus; v++) Assert.True(later[v] > atArrival[v], $"vCPU {v} continued on the destination ({atArrival[v]} -> {later[v]})");
        var report = model.Verify(destination.Memory.GetSpan(GuestAddress.Zero, (int)memory), later);
        Assert.True(report.IsExact, report.ToString());
    }

    private static bool AllAdvanced(ulong[] before, ulong[] now)
    {
        for (int v = 0; v < now.Length; v++) if (now[v] <= before[v]) return false;
        return true;
    }
}
