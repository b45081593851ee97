using Tern.Migration.Api;
using Tern.Migration.Engine;
using Tern.Migration.Tests.Engine;
using Tern.Migration.Transport;

namespace Tern.Migration.Tests.Transport;

/// <summary>
/// A whole migration (simulated guests, page channels, verification) over each transport behind the seam: the
/// engine does not know which one carries it.
/// </summary>
public sealed class MigrationOverTransportTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("tern-unix-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    public static TheoryData<string> Transports => ["in-process", "unix"];

    [Theory]
    [MemberData(nameof(Transports))]
    public void A_running_guest_moves_with_three_page_channels_and_verifies(string kind)
    {
        var transport = kind == "unix" ? MigrationUri.UnixSocket(Path.Combine(dir, "m.sock")).CreateTransport() : new InProcessTransport();
        using var m = LocalMigration.Sim("random:ws=16M,rate=30", memoryBytes: 64 << 20, transport: transport);
        m.Settings.SetCapability(MigrationCapability.Verify, true);
        m.Settings.SetCapability(MigrationCapability.Multifd, true);
        // A generous downtime limit: this test is about the transport, and on a loaded machine the hand-over's round
        // trip can outlast the default 300 ms plus its margin (the source then rightly keeps the VM).
        m.Settings.SetParameters(new MigrationParameters { MultifdChannels = 3, DowntimeLimitMs = 5_000 });
        m.Source.Resume();
        Thread.Sleep(200);

        var source = m.Run();

        Assert.True(source.Status == MigrationStatus.Completed, m.Describe(source));
        var info = source.Info();
        Assert.True(info.Verification!.Matched, m.Describe(source));
        Assert.Equal(3, info.Channels);
        Assert.All(info.ChannelBytes!, bytes => Assert.True(bytes > 0, $"every channel carried pages: {string.Join(", ", info.ChannelBytes!)}"));
        Assert.Equal(Tern.Machine.MachineRunState.Running, m.DestinationMachine!.State);
    }
}
