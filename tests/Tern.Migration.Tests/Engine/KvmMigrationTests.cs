using Tern.Guest;
using Tern.Machine;
using Tern.Machine.Kvm;
using Tern.Memory;
using Tern.Migration.Api;
using Tern.Migration.Engine;

namespace Tern.Migration.Tests.Engine;

/// <summary>Real KVM guests on both sides of an in-process migration over loopback.</summary>
[Collection(KvmCollection.Name)]
public sealed class KvmMigrationTests
{
    [Theory]
    [InlineData("seq:ws=32M", 2)]
    [InlineData("random:ws=32M", 2)]
    [InlineData("hotcold:ws=32M,hot=4M,p=0.9", 2)]
    [InlineData("stride", 1)]
    [InlineData("idle", 2)]
    public void A_kvm_guest_moves_and_continues_with_every_byte_as_expected(string workload, int vcpus)
    {
        RequireKvm.Present();
        const ulong memory = 128 << 20;
        var spec = WorkloadSpec.Parse(workload);
        var source = KvmGuests.Boot(spec, memory, vcpus);
        using var m = new LocalMigration(source, d => KvmMachine.Create(new KvmMachineOptions(d.MemoryBytes, d.VcpuCount) { Workload = d.Workload }));
        m.Settings.SetCapability(MigrationCapability.Verify, true);
        source.Resume();
        Thread.Sleep(300);

        var migration = m.Run();
        Assert.True(migration.Status == MigrationStatus.Completed, m.Describe(migration));
        Assert.True(migration.Info().Verification!.Matched);

        var destination = (KvmMachine)m.DestinationMachine!;
        var model = new WorkloadModel(GuestLayout.Compute(spec, memory, vcpus));
        var atArrival = KvmGuests.Counters(model, destination);
        Thread.Sleep(200);
        destination.Pause();
        Assert.Null(destination.Fault);
        var later = KvmGuests.Counters(model, destination);
        for (int v = 0; v < vcpus; v++) Assert.True(later[v] > atArrival[v], $"vCPU {v} continued on the destination ({atArrival[v]} -> {later[v]})");
        var report = model.Verify(destination.Ram.GetSpan(GuestAddress.Zero, (int)memory), later);
        Assert.True(report.IsExact, report.ToString());

        // The guest saw the switchover as one gap in its heartbeats; it is reported and close to the measured downtime.
        var info = migration.Info();
        Assert.NotNull(info.GuestDowntimeMs);
        Assert.True(info.GuestDowntimeMs >= info.DowntimeMs / 2, $"guest-observed downtime {info.GuestDowntimeMs} ms vs downtime {info.DowntimeMs} ms");
    }
}
