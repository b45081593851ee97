using System.Text.RegularExpressions;
using Tern.Guest;
using Tern.Machine;
using Tern.Machine.Sim;
using Tern.Migration.Api;
using Tern.Migration.Engine;
using Tern.Migration.Tests.Engine;
using Tern.Migration.Tests.Support;
using Tern.Migration.Transport;

namespace Tern.Migration.Tests.Transport;

/// <summary>
/// Faults injected by a transport wrapper in the source's process (no proxy): whatever the link does mid-pass, the VM
/// keeps running on the source, the destination discards its copy, and both say why.
/// </summary>
public sealed class FaultTransportTests
{
    /// <summary>Past the Hello, the Welcome round trip and the start of the first pass (16,384 page records of at least 8 bytes).</summary>
    private const long MidFirstPass = 100_000;

    [Fact]
    public void A_link_cut_mid_pass_leaves_the_vm_running_on_the_source()
    {
        using var s = new Scenario(TransportFault.CutAfter(MidFirstPass));
        var (source, run) = s.Start();
        s.Migration.Finish(source, run, TimeSpan.FromSeconds(40));

        Assert.True(s.Fault.Fired, s.Migration.Describe(source));
        s.AssertSourceKeptTheVm(source);
        Assert.Matches(new Regex("reset|closed the connection", RegexOptions.IgnoreCase), source.Info().ErrorDesc);
        Assert.Matches(new Regex("closed the connection", RegexOptions.IgnoreCase), s.Migration.Destination.Info().ErrorDesc);
    }

    [Fact]
    public void A_corrupted_byte_is_caught_by_the_destination_and_the_source_keeps_the_vm()
    {
        using var s = new Scenario(TransportFault.CorruptByteAt(MidFirstPass));
        var (source, run) = s.Start();
        s.Migration.Finish(source, run, TimeSpan.FromSeconds(40));

        Assert.True(s.Fault.Fired, s.Migration.Describe(source));
        s.AssertSourceKeptTheVm(source);
        Assert.Contains("checksum", s.Migration.Destination.Info().ErrorDesc);
    }

    [Fact]
    public void A_link_that_stops_taking_bytes_is_named_by_the_stall_watchdog()
    {
        using var s = new Scenario(TransportFault.StallAfter(MidFirstPass));
        var (source, run) = s.Start(writeStallLimit: TimeSpan.FromSeconds(2));
        s.Migration.Finish(source, run, TimeSpan.FromSeconds(40));

        Assert.True(s.Fault.Fired, s.Migration.Describe(source));
        s.AssertSourceKeptTheVm(source);
        Assert.Contains("stopped reading", source.Info().ErrorDesc);
    }

    /// <summary>A converging simulated guest migrating in-process through a <see cref="FaultTransport"/>.</summary>
    private sealed class Scenario : IDisposable
    {
        private readonly List<IVirtualMachine> built = [];

        public Scenario(TransportFault fault)
        {
            var transport = new InProcessTransport();
            var guest = SimMachine.Create(new SimMachineOptions(64 << 20, 1, WorkloadSpec.Parse("random:ws=8M,rate=64")) { BatchWrites = 128 });
            Migration = new LocalMigration(guest, d =>
            {
                var m = SimMachine.CreateIncoming(new SimMachineOptions(d.MemoryBytes, d.VcpuCount, WorkloadSpec.Parse(d.Workload)));
                lock (built) built.Add(m);
                return m;
            }, transport: transport);
            Fault = new FaultTransport(transport, fault);
            guest.Resume();
            Thread.Sleep(100); // let the guest populate its working set
        }

        public LocalMigration Migration { get; }
        public FaultTransport Fault { get; }

        public (MigrationSource Source, Task Run) Start(TimeSpan? writeStallLimit = null) => Migration.Start(over: Fault, writeStallLimit: writeStallLimit);

        public void AssertSourceKeptTheVm(MigrationSource source)
        {
            var context = Migration.Describe(source);
            Assert.True(source.Status == MigrationStatus.Failed, context);
            Assert.Equal(MigrationOutcome.SourceKeepsVm, source.Outcome);
            GuestProgress.AssertRunning(Migration.Source, context);
            Assert.True(Migration.Destination.Status == MigrationStatus.Failed, context);
            Assert.Equal(DestinationState.Discarded, Migration.Destination.State);
            Assert.Null(Migration.Destination.Machine);
            lock (built) Assert.All(built, m => Assert.Equal(MachineRunState.Destroyed, m.State));
        }

        public void Dispose() => Migration.Dispose();
    }
}
