using Tern.Migration.Engine;
using Tern.Migration.Protocol;
using Tern.Migration.Tests.Support;

namespace Tern.Migration.Tests.Engine;

/// <summary>
/// The ownership rules of a destination's connections and receiver threads (real sockets, real threads): nothing is
/// taken after teardown began, and waiting for the receivers waits for every one of them, however long it takes.
/// </summary>
public sealed class DestinationConnectionsTests
{
    [Fact]
    public void A_channel_offered_after_teardown_is_refused_and_no_receiver_starts()
    {
        using var pair = new SocketPair();
        var connections = new DestinationConnections();
        connections.Close();
        bool started = false;

        string? refusal = connections.AddChannel(new FrameConnection(pair.Right.GetStream(), "test"), 1, 4, (_, _) => started = true);

        Assert.Equal("the migration it belongs to has ended", refusal);
        connections.JoinReceivers();
        Assert.False(started);
        Assert.Equal(0, connections.Count);
    }

    [Fact]
    public void Closing_stops_a_receiver_blocked_in_a_read_and_joining_waits_until_it_has_ended()
    {
        using var pair = new SocketPair();
        var connections = new DestinationConnections();
        using var finishing = new ManualResetEventSlim();
        bool ended = false;
        Assert.Null(connections.AddChannel(new FrameConnection(pair.Right.GetStream(), "test"), 1, 2, (c, _) =>
        {
            try
            {
                c.Read(); // blocks: the peer sends nothing
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                finishing.Wait(); // still busy after its connection was closed (applying a last frame, say)
                Volatile.Write(ref ended, true);
            }
        }));

        connections.Close();
        var join = new Thread(connections.JoinReceivers);
        join.Start();
        Assert.False(join.Join(TimeSpan.FromMilliseconds(300)), "joined while a receiver was still running");
        finishing.Set();
        Assert.True(join.Join(TimeSpan.FromSeconds(10)), "the join did not end after the receiver ended");
        Assert.True(Volatile.Read(ref ended));
    }

    [Fact]
    public void Channels_may_connect_in_any_order_and_a_pass_counts_them_without_gaps()
    {
        using var one = new SocketPair();
        using var two = new SocketPair();
        using var main = new SocketPair();
        var connections = new DestinationConnections();
        Assert.True(connections.AddMain(new FrameConnection(main.Right.GetStream(), "main")));
        Assert.Null(connections.AddChannel(new FrameConnection(two.Right.GetStream(), "2"), 2, 3, (_, _) => { }));
        Assert.Equal(1, connections.WaitForChannels(3, TimeSpan.Zero, CancellationToken.None));
        Assert.Null(connections.AddChannel(new FrameConnection(one.Right.GetStream(), "1"), 1, 3, (_, _) => { }));
        Assert.Equal(3, connections.WaitForChannels(3, TimeSpan.Zero, CancellationToken.None));

        var twice = Assert.Throws<ProtocolException>(() => connections.AddChannel(new FrameConnection(one.Left.GetStream(), "1 again"), 1, 3, (_, _) => { }));
        Assert.Contains("page channel 1 connected twice", twice.Message);
        var beyond = Assert.Throws<ProtocolException>(() => connections.AddChannel(new FrameConnection(two.Left.GetStream(), "3"), 3, 3, (_, _) => { }));
        Assert.Contains("channels 1 to 2 only", beyond.Message);
        connections.Close();
        connections.JoinReceivers();
    }
}
