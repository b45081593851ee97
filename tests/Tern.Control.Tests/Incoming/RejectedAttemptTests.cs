using Tern.Control.Host;
using Tern.Machine;
using Tern.Migration.Api;
using Tern.Migration.Protocol;
using Tern.Migration.Tests.Support;

namespace Tern.Control.Tests.Incoming;

/// <summary>
/// A VM host waiting for an incoming migration (simulated backend, real loopback TCP, a hand-driven source) that
/// rejects a stream: `query-migrate` says what happened and that the host waits for another attempt, until the next
/// attempt starts, and the next source is welcomed. The host once forgot the error at once (`{"total-time": N}`
/// only), and a protocol violation after Ready left it paused and no longer listening.
/// </summary>
public sealed class RejectedAttemptTests
{
    private static readonly MachineHostOptions Sim = new() { Backend = MachineBackend.Sim };
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private static VmHost Listening()
    {
        var host = new VmHost(Sim);
        host.StartIncoming("tcp:127.0.0.1:0");
        return host;
    }

    private static RawPeer Connect(VmHost host) => new(host.IncomingAddress!.Port, Patience);

    private static MigrationInfo SettledFailure(VmHost host)
    {
        Assert.True(SpinWait.SpinUntil(() => host.QueryMigrate().Status == MigrationStatus.Failed, Patience),
            $"query-migrate says {host.QueryMigrate().Status} ({host.QueryMigrate().ErrorDesc}), not failed");
        return host.QueryMigrate();
    }

    [Fact]
    public void After_a_rejected_stream_query_migrate_says_why_until_the_next_attempt_starts()
    {
        using var host = Listening();
        using (var bad = Connect(host))
        {
            bad.Handshake();
            bad.Stream.Write(RawFrameHeader.Build(99));
            Assert.Contains("unknown message type 99", bad.ReadError());
        }

        var info = SettledFailure(host);
        Assert.Contains("unknown message type 99", info.ErrorDesc);
        Assert.Contains($"waiting for another attempt on {host.IncomingAddress}", info.ErrorDesc);
        Assert.Equal(RunState.InMigrate, host.RunState);

        using var next = Connect(host);
        next.Handshake();
        // Welcome goes out just before the status turns active.
        Assert.True(SpinWait.SpinUntil(() => host.QueryMigrate().Status == MigrationStatus.Active, Patience), $"{host.QueryMigrate().Status}");
    }

    [Fact]
    public void A_protocol_violation_after_Ready_discards_the_copy_and_the_host_keeps_listening()
    {
        using var host = Listening();
        using (var bad = Connect(host))
        {
            bad.Handshake();
            bad.DriveToReady();
            bad.Stream.Write(RawFrameHeader.Build(99));
            Assert.Contains("unknown message type 99", bad.ReadError());
        }

        var info = SettledFailure(host);
        Assert.Contains("the incoming copy was discarded", info.ErrorDesc);
        Assert.Equal(RunState.InMigrate, host.RunState);
        Assert.Null(host.Machine);

        using var next = Connect(host);
        next.Handshake();
        // Welcome goes out just before the status turns active.
        Assert.True(SpinWait.SpinUntil(() => host.QueryMigrate().Status == MigrationStatus.Active, Patience), $"{host.QueryMigrate().Status}");
    }
}
