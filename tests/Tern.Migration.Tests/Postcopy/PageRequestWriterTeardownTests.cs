using Tern.Memory;
using Tern.Migration.Engine.Postcopy;
using Tern.Migration.Protocol;
using Tern.Migration.Tests.Support;
using Tern.Migration.Transport;

namespace Tern.Migration.Tests.Postcopy;

/// <summary>
/// The destination's page-request thread blocked in a write on an urgent lane whose peer stopped reading, when the
/// destination tears down (the writer disposed, then the lane's socket closed under the thread): the thread ends
/// quietly. Its failed write once escaped the thread as an ObjectDisposedException, which ends the whole process
/// (it took down a CI test host). Without the fix the run reports it as a fatal error (xunit catches an exception
/// that escapes a thread and fails the run with it), and Dispose waits its full 5 s for the dead thread.
/// </summary>
public sealed class PageRequestWriterTeardownTests
{
    [Fact]
    public void A_write_failing_because_the_writer_is_being_disposed_ends_the_thread_quietly()
    {
        using var pair = new SocketPair();
        pair.Left.Client.SendBufferSize = 4096;
        pair.Right.Client.ReceiveBufferSize = 4096;
        var failures = new List<Exception>();
        var writer = new PageRequestWriter(_ => false, e => { lock (failures) failures.Add(e); });
        var lane = new FrameConnection(new SocketLink(pair.Left.Client, "test peer"));
        writer.Attach(lane);
        // The peer never reads: distinct pages until the writer's thread blocks in a send.
        for (ulong p = 0; p < 200_000; p++) writer.RequestPage(new PageIndex(p));
        Assert.True(SpinWait.SpinUntil(() => writer.MessagesSent > 0, TimeSpan.FromSeconds(10)), "no request was sent");
        Thread.Sleep(200); // the thread is now blocked on the full socket

        var disposing = new Thread(writer.Dispose); // waits (at most 5 s) for the blocked thread
        disposing.Start();
        Thread.Sleep(100);
        lane.Dispose(); // the lane closes under the blocked write, as the destination's teardown closes it
        Assert.True(disposing.Join(TimeSpan.FromSeconds(10)), "Dispose did not return");
        lock (failures) Assert.Empty(failures); // a teardown is not a broken link
    }
}
