using Tern.Control.Host;
using Tern.Guest;
using Tern.Machine;
using Tern.Machine.Sim;
using Tern.Migration.Api;
using Tern.Migration.Engine;
using Tern.Migration.Protocol;
using Tern.Migration.Tests.Support;

namespace Tern.Control.Tests.HandOver;

/// <summary>
/// Two VM hosts in this process (simulated guests, real loopback TCP through a fault proxy). The link breaks after the
/// source wrote Commit and before the destination received it: both hosts stay paused and say why, and `cont` on
/// the side the operator picks runs the VM there, once.
/// </summary>
public sealed class UncertainHandOverTests
{
    private static readonly MachineHostOptions Sim = new() { Backend = MachineBackend.Sim };

    private sealed class Pair : IDisposable
    {
        public Pair()
        {
            Source = new VmHost(MachineBuilder.Boot(WorkloadSpec.Parse("random:ws=4M,rate=64"), 64 << 20, 1, Sim), Sim);
            Destination = new VmHost(Sim);
            Source.Start();
            Destination.StartIncoming("tcp:127.0.0.1:0");
            Proxy = new FaultProxy(Destination.IncomingAddress!, LinkFault.DropAt(MessageType.Commit));
            Source.StartMigration(Proxy.Uri.ToString());
            Assert.True(SpinWait.SpinUntil(() => Source.QueryMigrate().Status.IsFinished() && Destination.RunState == RunState.Paused,
                TimeSpan.FromSeconds(30)), $"source {Source.QueryMigrate().Status} {Source.RunState}, destination {Destination.RunState}");
        }

        public VmHost Source { get; }
        public VmHost Destination { get; }
        public FaultProxy Proxy { get; }

        public void Dispose()
        {
            Proxy.Dispose();
            Source.Dispose();
            Destination.Dispose();
        }
    }

    private static void AssertBothPausedAndSayingSo(Pair p)
    {
        Assert.True(p.Proxy.Fired);
        var info = p.Source.QueryMigrate();
        Assert.Equal(MigrationStatus.Failed, info.Status);
        Assert.Contains("both sides are paused", info.ErrorDesc);
        Assert.Equal(RunState.Paused, p.Source.RunState);
        Assert.Contains("run `cont` on the side that should keep the VM", p.Source.Note);
        Assert.Equal(RunState.Paused, p.Destination.RunState);
        Assert.Contains("holds a complete, paused copy", p.Destination.Note);
        Assert.Equal(MachineRunState.Paused, p.Source.Machine!.State);
        Assert.Equal(MachineRunState.Paused, p.Destination.Machine!.State);
    }

    private static void AssertRuns(VmHost host)
    {
        Assert.Equal(RunState.Running, host.RunState);
        var sim = Assert.IsType<SimMachine>(host.Machine);
        var before = sim.ReadCounters();
        Assert.True(SpinWait.SpinUntil(() => sim.ReadCounters().Zip(before).All(c => c.First > c.Second), TimeSpan.FromSeconds(5)),
            "the guest's counters do not increase");
    }

    [Fact]
    public void Cont_on_the_destination_runs_the_VM_there_and_the_source_stays_paused()
    {
        using var p = new Pair();
        AssertBothPausedAndSayingSo(p);

        p.Destination.Cont();

        AssertRuns(p.Destination);
        Assert.Equal(RunState.Paused, p.Source.RunState);
        Assert.Equal(MachineRunState.Paused, p.Source.Machine!.State);
    }

    [Fact]
    public void Cont_on_the_source_runs_the_VM_there_and_the_destination_stays_paused()
    {
        using var p = new Pair();
        AssertBothPausedAndSayingSo(p);

        p.Source.Cont();

        AssertRuns(p.Source);
        Assert.Equal(RunState.Paused, p.Destination.RunState);
        Assert.Equal(MachineRunState.Paused, p.Destination.Machine!.State);
    }
}
