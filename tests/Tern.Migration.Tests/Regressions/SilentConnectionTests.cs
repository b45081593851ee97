using System.Diagnostics;
using System.Net.Sockets;
using Tern.Migration.Api;
using Tern.Migration.Protocol;
using Tern.Migration.Tests.Support;

namespace Tern.Migration.Tests.Regressions;

/// <summary>
/// Connections that say nothing, or trickle their first frame, on a destination's port. Each one gets a bounded time
/// (10 s) for its whole Hello or ChannelHello, and none of them holds up anyone else: a real source is welcomed and
/// its page channels are taken while they wait. The destination once served connections one at a time and read each
/// first frame without a deadline, so one silent peer kept it in setup for good (and a silent peer during a migration
/// kept its page channels out until the pass failed with an error blaming the source).
/// </summary>
public sealed class SilentConnectionTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Fact]
    public void Two_hundred_silent_connections_do_not_keep_a_source_out()
    {
        using var raw = new RawSource(); // its own first connection says nothing either
        var silent = Enumerable.Range(0, 200).Select(_ => raw.Reconnect()).ToList();

        using var source = raw.Reconnect();
        var welcome = source.Handshake();

        Assert.Equal(ProtocolConstants.MaxVersion, welcome.Version);
        // Welcome goes out just before the status turns active.
        Assert.True(SpinWait.SpinUntil(() => raw.Destination.Status == MigrationStatus.Active, TimeSpan.FromSeconds(10)), $"{raw.Destination.Status}");
        Assert.Equal(1, raw.MachinesBuilt);
    }

    [Fact]
    public void A_silent_connection_and_a_trickled_Hello_are_closed_at_their_deadline()
    {
        using var raw = new RawSource();
        using var trickle = raw.Reconnect();
        var clock = Stopwatch.StartNew();
        // A Hello header that promises 2000 bytes, then one byte every half second: 1000 s to finish.
        trickle.Stream.Write(RawFrameHeader.Build((ushort)MessageType.Hello, 0, 2000, 0));
        var dripping = new Thread(() =>
        {
            try
            {
                while (true)
                {
                    trickle.Stream.Write(new byte[1]);
                    Thread.Sleep(500);
                }
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                // closed by the destination, as it should be
            }
        }) { IsBackground = true };
        dripping.Start();

        AssertClosedByThePeer(raw.Stream, "the silent connection");
        var silentFor = clock.Elapsed;
        AssertClosedByThePeer(trickle.Stream, "the trickled Hello");

        Assert.True(silentFor >= Deadline - TimeSpan.FromSeconds(1), $"closed after {silentFor.TotalSeconds:0.0} s, before its deadline");
        Assert.Equal(MigrationStatus.None, raw.Destination.Status);
        Assert.Equal(0, raw.MachinesBuilt);
        Assert.True(dripping.Join(TimeSpan.FromSeconds(10)), "the trickle kept writing into a closed connection");
    }

    [Fact]
    public void A_Hello_that_claims_more_than_any_Hello_is_refused_at_once()
    {
        using var raw = new RawSource();
        raw.Stream.Write(RawFrameHeader.Build((ushort)MessageType.Hello, 0, Frame.MaxPayload, 0));
        var (type, payload) = raw.Connection.Read();
        Assert.Equal(MessageType.Error, type);
        Assert.Contains($"Hello claims {Frame.MaxPayload} bytes", ErrorMessage.Read(type, payload.Span).Text);
        Assert.Equal(MigrationStatus.None, raw.Destination.Status);
    }

    [Fact]
    public void A_silent_stranger_during_a_migration_does_not_keep_its_page_channel_out()
    {
        using var raw = new RawSource();
        var hello = RawSource.Hello() with { Channels = 2 };
        raw.Handshake(hello);
        using var stranger = raw.Reconnect();
        Thread.Sleep(200); // the stranger is accepted first
        using var channel = raw.Reconnect();
        channel.Send(MessageType.ChannelHello, new ChannelHelloMessage(hello.Session, 1).Write);

        raw.DriveToReady(channel);

        Assert.Equal(2, raw.Destination.Info().Channels);
        AssertClosedByThePeer(stranger.Stream, "the stranger");
    }

    /// <summary>The peer closes the connection within twice the deadline (a read returns 0 or the link is reset).</summary>
    private static void AssertClosedByThePeer(NetworkStream stream, string what)
    {
        stream.Socket.ReceiveTimeout = (int)(2 * Deadline).TotalMilliseconds;
        try
        {
            var buffer = new byte[4096];
            while (stream.Read(buffer) > 0)
            {
                // An Error frame may come first; the end of the stream is what counts.
            }
        }
        catch (IOException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.TimedOut })
        {
            Assert.Fail($"{what} was still open after {2 * Deadline.TotalSeconds} s");
        }
        catch (IOException)
        {
            // reset by the destination: closed too
        }
    }
}
