using Tern.Machine;
using Tern.Migration.Api;
using Tern.Migration.Engine;

namespace Tern.Migration.Tests.Engine;

public sealed class SimMigrationTests
{
    [Theory]
    [InlineData("seq:ws=16M")]
    [InlineData("random:ws=16M")]
    [InlineData("hotcold:ws=32M,hot=4M,p=0.9")]
    [InlineData("stride")]
    [InlineData("idle")]
    public void A_running_guest_moves_and_continues_with_every_byte_as_expected(string workload)
    {
        using var m = LocalMigration.Sim(workload);
        m.Settings.SetCapability(MigrationCapability.Verify, true);
        m.Source.Resume();
        Thread.Sleep(200);

        var source = m.Run();
        Assert.True(source.Status == MigrationStatus.Completed, m.Describe(source));
        Assert.Equal(MigrationOutcome.Completed, source.Outcome);
        Assert.Equal(MigrationStatus.Completed, m.Destination.Status);
        var info = source.Info();
        Assert.True(info.Verification!.Matched);
        Assert.NotNull(info.DowntimeMs);
        Assert.Equal(MachineRunState.Paused, m.Source.State); // the source gave the VM up

        var destination = (Tern.Machine.Sim.SimMachine)m.DestinationMachine!;
        Assert.Equal(MachineRunState.Running, destination.State);
        var atArrival = destination.ReadCounters();
        // Every vCPU must make progress there; on a loaded machine a thread may wait a while for a core, so poll.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < deadline && !AllAdvanced(atArrival, destination.ReadCounters())) Thread.Sleep(20);
        destination.Pause();
        var later = destination.ReadCounters();
        for (int v = 0; v < later.Length; v++) Assert.True(later[v] > atArrival[v], $"vCPU {v} continued on the destination ({atArrival[v]} -> {later[v]})");
        var report = destination.Model.Verify(destination.Ram.GetSpan(default, (int)destination.Ram.Size), later);
        Assert.True(report.IsExact, report.ToString());
    }

    private static bool AllAdvanced(ulong[] before, ulong[] now)
    {
        for (int v = 0; v < now.Length; v++) if (now[v] <= before[v]) return false;
        return true;
    }
}
