using Tern.Guest;
using Tern.Machine;
using Tern.Machine.Sim;
using Tern.Migration.Api;
using Tern.Migration.Engine;
using Tern.Migration.Tests.Engine;
using Tern.Migration.Tests.Support;

namespace Tern.Migration.Tests.Failures;

/// <summary>
/// A running simulated guest migrating through a <see cref="FaultProxy"/>, and the checks every failure must pass:
/// the VM keeps running on the source, the destination discarded its copy, and the error says why.
/// </summary>
internal sealed class FailureScenario : IDisposable
{
    /// <summary>Converges in a pass or two over loopback (unlimited): reaches the switchover.</summary>
    public const string Converging = "random:ws=8M,rate=64";
    /// <summary>
    /// Dirties its 4 MiB working set four times a second (rate-limited, so it leaves CPU to the rest): at <see cref="SlowLink"/> what is left after each pass takes
    /// about a second to send, far over the 300 ms downtime limit, so passes go on until stopped.
    /// </summary>
    public const string NeverConverging = "random:ws=4M,rate=16";

    /// <summary>A link slow enough that <see cref="NeverConverging"/> never converges and each pass lasts about a second.</summary>
    public const ulong SlowLink = 4 << 20;

    private readonly List<IVirtualMachine> built = [];

    public FailureScenario(string workload, LinkFault? fault = null, ulong maxBandwidth = 0)
    {
        // Small batches: the progress counter then moves several times a second even in a rate-limited guest.
        var guest = SimMachine.Create(new SimMachineOptions(64 << 20, 1, WorkloadSpec.Parse(workload)) { BatchWrites = 128 });
        Migration = new LocalMigration(guest, d =>
        {
            var m = SimMachine.CreateIncoming(new SimMachineOptions(d.MemoryBytes, d.VcpuCount, WorkloadSpec.Parse(d.Workload)));
            lock (built) built.Add(m);
            return m;
        });
        Migration.Settings.SetParameters(Migration.Settings.Parameters with { MaxBandwidth = maxBandwidth });
        Proxy = new FaultProxy(Migration.Uri, fault ?? LinkFault.CorruptByteAt(long.MaxValue));
        guest.Resume();
        Thread.Sleep(100); // let the guest populate its working set
    }

    public LocalMigration Migration { get; }
    public FaultProxy Proxy { get; }

    public (MigrationSource Source, Task Run) Start(Action<MigrationSource>? configure = null) => Migration.Start(configure, Proxy.Uri);

    public void Finish(MigrationSource source, Task run) => Migration.Finish(source, run, TimeSpan.FromSeconds(40));

    /// <summary>The failure left the VM where it was: running on the source; the destination has nothing.</summary>
    public void AssertSourceKeptTheVm(MigrationSource source, MigrationStatus status)
    {
        var context = Migration.Describe(source);
        Assert.True(source.Status == status, context);
        Assert.Equal(MigrationOutcome.SourceKeepsVm, source.Outcome);
        GuestProgress.AssertRunning(Migration.Source, context);
        Assert.True(Migration.Destination.Status == MigrationStatus.Failed, context);
        Assert.Equal(DestinationState.Discarded, Migration.Destination.State);
        Assert.Null(Migration.Destination.Machine);
        lock (built) Assert.All(built, m => Assert.Equal(MachineRunState.Destroyed, m.State));
    }

    public string SourceError(MigrationSource source) => source.Info().ErrorDesc ?? "";
    public string DestinationError => Migration.Destination.Info().ErrorDesc ?? "";

    public void Dispose()
    {
        Proxy.Dispose();
        Migration.Dispose();
    }
}
