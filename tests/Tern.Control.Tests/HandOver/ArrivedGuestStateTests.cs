using Tern.Control.Host;
using Tern.Guest;
using Tern.Machine;
using Tern.Migration.Api;

namespace Tern.Control.Tests.HandOver;

/// <summary>
/// The destination's VM host reports "running" from the moment it runs the arrived guest: before it tells the source,
/// so by the time the source reports the migration completed, query-status on the destination already says so.
/// </summary>
public sealed class ArrivedGuestStateTests
{
    private static readonly MachineHostOptions Sim = new() { Backend = MachineBackend.Sim };

    [Fact]
    public void When_the_source_reports_completed_the_destination_already_reports_running()
    {
        for (int attempt = 0; attempt < 5; attempt++)
        {
            using var source = new VmHost(MachineBuilder.Boot(WorkloadSpec.Parse("random:ws=4M,rate=64"), 64 << 20, 1, Sim), Sim);
            using var destination = new VmHost(Sim);
            source.Start();
            destination.StartIncoming("tcp:127.0.0.1:0");
            source.StartMigration(destination.IncomingAddress!.ToString());

            Assert.True(SpinWait.SpinUntil(() => source.QueryMigrate().Status.IsFinished(), TimeSpan.FromSeconds(30)),
                $"source still {source.QueryMigrate().Status}");
            // No waiting here: the destination said it runs the guest only after its host switched.
            var destinationState = destination.RunState;
            Assert.Equal(MigrationStatus.Completed, source.QueryMigrate().Status);
            Assert.True(destinationState == RunState.Running, $"attempt {attempt}: the destination says {destinationState.ToQapi()} after the source completed");
            Assert.Equal(MachineRunState.Running, destination.Machine!.State);
        }
    }
}
