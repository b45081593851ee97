using System.Net;
using System.Net.Sockets;
using Tern.Control.Host;
using Tern.Guest;
using Tern.Machine;
using Tern.Migration.Api;

namespace Tern.Control.Tests;

/// <summary>
/// x-check-guest on a real VM host running a simulated guest (real vCPU threads writing real memory): the check pauses
/// the guest only while it looks, finds a byte that is wrong, and refuses when the guest is not its to check.
/// </summary>
public sealed class GuestCheckOnSimTests : IDisposable
{
    private const ulong Memory = 64 << 20;
    private const int Vcpus = 2;
    private static readonly WorkloadSpec Workload = WorkloadSpec.Parse("seq:ws=8M,rate=20");
    private static readonly MachineHostOptions Sim = new() { Backend = MachineBackend.Sim };
    private readonly VmHost host = new(MachineBuilder.Boot(Workload, Memory, Vcpus, Sim), Sim);

    public void Dispose() => host.Dispose();

    [Fact]
    public void A_running_guest_is_checked_exact_and_keeps_running()
    {
        host.Start();
        WaitUntil(() => host.QueryGuest()!.Progress.All(p => p > 0), "every vCPU has written");

        var check = host.CheckGuest(8);

        Assert.True(check.Report.IsExact, check.Report.ToString());
        Assert.Equal(2048UL, check.Report.PagesChecked); // 8 MiB of working set, every page of it
        Assert.All(check.Counters, c => Assert.True(c > 0));
        Assert.True(check.Paused > TimeSpan.Zero);
        Assert.Equal(RunState.Running, host.RunState);
        Assert.Equal(MachineRunState.Running, host.Machine!.State);
        WaitUntil(() => host.QueryGuest()!.Progress.Sum(p => (decimal)p) > check.Counters.Sum(p => (decimal)p), "the guest goes on after the check");
    }

    [Fact]
    public void A_paused_guest_stays_paused_and_a_wrong_byte_is_found_on_its_page()
    {
        host.Start();
        WaitUntil(() => host.QueryGuest()!.Progress.All(p => p > 0), "every vCPU has written");
        host.Stop();
        var model = new WorkloadModel(GuestLayout.Compute(Workload, Memory, Vcpus));
        var target = model.WriteTarget(1, 0); // vCPU 1's first write: in its working set, written by now
        host.Machine!.Memory.GetSpan(target, 1)[0] ^= 0x5a;

        var check = host.CheckGuest(4);

        Assert.False(check.Report.IsExact);
        var mismatch = Assert.Single(check.Report.Mismatches);
        Assert.Equal(1, mismatch.Vcpu);
        Assert.Equal(target.Page, mismatch.Page);
        Assert.Equal(TimeSpan.Zero, check.Paused);
        Assert.Equal(RunState.Paused, host.RunState);
        Assert.Equal(MachineRunState.Paused, host.Machine.State);
        Assert.Equal(check.Counters, host.QueryGuest()!.Progress);
    }

    [Fact]
    public void A_destination_still_waiting_for_its_guest_refuses()
    {
        using var incoming = new VmHost(Sim);

        var refused = Assert.Throws<VmControlException>(() => incoming.CheckGuest(8));

        Assert.Contains("being migrated in", refused.Message);
    }

    [Fact]
    public void A_guest_being_migrated_away_is_not_paused_under_the_migration()
    {
        // A "destination" that accepts the connection and never answers: the migration stays in its setup.
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            host.Start();
            host.StartMigration($"tcp:127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}");
            using var silent = listener.AcceptTcpClient();

            var refused = Assert.Throws<VmControlException>(() => host.CheckGuest(8));

            Assert.Contains("a migration is moving this guest", refused.Message);
            Assert.Equal(MachineRunState.Running, host.Machine!.State);
            // The destination hangs up (quicker than migrate_cancel, which the engine only notices once the Hello
            // reply times out): the migration fails, the guest keeps running here, and can be checked again.
            silent.Dispose();
            WaitUntil(() => host.QueryMigrate().Status.IsFinished(), "the migration ends once the destination hangs up");
            Assert.Equal(MigrationStatus.Failed, host.QueryMigrate().Status);
            Assert.Equal(RunState.Running, host.RunState);
            Assert.True(host.CheckGuest(8).Report.IsExact, "checked once the migration is over");
        }
        finally
        {
            listener.Stop();
        }
    }

    private static void WaitUntil(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}");
            Thread.Sleep(10);
        }
    }
}
