using Tern.Guest;
using Tern.Machine.Sim;
using Tern.Memory;
using Tern.Migration.Api;
using Tern.Migration.Engine;
using Tern.Migration.Protocol;
using Tern.Migration.Tests.Engine;
using Tern.Migration.Tests.Failures;
using Tern.Migration.Tests.Support;

namespace Tern.Migration.Tests.Regressions;

/// <summary>A Hello may not ask the destination for more RAM than it allows (by default, the host's memory).</summary>
[Collection(FaultCollection.Name)]
public sealed class HelloMemoryLimitTests
{
    [Fact]
    public void A_Hello_asking_for_more_RAM_than_the_host_has_is_refused_before_anything_is_built()
    {
        using var raw = new RawSource();
        raw.Send(MessageType.Hello, RawSource.Hello(memory: 1UL << 50).Write);

        var error = raw.ExpectRejection(ErrorMessage.Incompatible);
        Assert.Contains(ByteSize.Format(1UL << 50), error.Text);
        Assert.Contains("host", error.Text);
        Assert.Equal(0, raw.MachinesBuilt);
    }

    [Fact]
    public void A_Hello_over_the_configured_limit_is_refused_and_one_at_the_limit_is_welcomed()
    {
        using (var raw = new RawSource(memoryLimit: 32 << 20))
        {
            raw.Send(MessageType.Hello, RawSource.Hello(memory: 64 << 20).Write);
            var error = raw.ExpectRejection(ErrorMessage.Incompatible);
            Assert.Contains(ByteSize.Format(64 << 20), error.Text);
            Assert.Contains(ByteSize.Format(32 << 20), error.Text);
            Assert.Equal(0, raw.MachinesBuilt);
        }
        using (var raw = new RawSource(memoryLimit: 32 << 20))
        {
            raw.Handshake(RawSource.Hello(memory: 32 << 20));
            Assert.Equal(1, raw.MachinesBuilt);
        }
    }

    [Fact]
    public void A_Hello_asking_for_more_vCPUs_than_the_destination_was_started_with_is_refused_before_anything_is_built()
    {
        using (var raw = new RawSource(limits: new DestinationLimits { Vcpus = 2 }))
        {
            raw.Send(MessageType.Hello, RawSource.Hello(vcpus: 64).Write);
            var error = raw.ExpectRejection(ErrorMessage.Incompatible);
            Assert.Contains("the source asks for 64 vCPUs, more than the 2 this destination was started with", error.Text);
            Assert.Equal(0, raw.MachinesBuilt);
        }
        using (var raw = new RawSource(limits: new DestinationLimits { Vcpus = 2 }))
        {
            raw.Handshake(RawSource.Hello(vcpus: 2));
            Assert.Equal(1, raw.MachinesBuilt);
        }
    }

    [Fact]
    public void A_source_bigger_than_the_destination_allows_keeps_its_VM_and_hears_why()
    {
        var guest = SimMachine.Create(new SimMachineOptions(64 << 20, 1, WorkloadSpec.Parse("random:ws=4M")));
        using var m = new LocalMigration(guest, d => throw new InvalidOperationException("must not be built"), destinationMemoryLimit: 32 << 20);
        m.Source.Resume();
        var (source, run) = m.Start();
        m.Finish(source, run, TimeSpan.FromSeconds(30));

        Assert.Equal(MigrationStatus.Failed, source.Status);
        Assert.Contains(ByteSize.Format(32 << 20), source.Info().ErrorDesc);
        GuestProgress.AssertRunning(m.Source, m.Describe(source));
    }
}
