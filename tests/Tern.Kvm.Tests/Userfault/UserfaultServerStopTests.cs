using Tern.Os.Userfault;

namespace Tern.Kvm.Tests.Userfault;

/// <summary>
/// A fault-serving thread built on WaitForMessage's timeout serves faults and stops promptly when asked, even when
/// no fault ever comes. Its loop allocates nothing (see UserfaultFd's remarks on the GC hazard).
/// </summary>
public sealed class UserfaultServerStopTests
{
    private sealed class Server
    {
        private readonly RegisteredMemory memory;
        private readonly byte[] page;
        private readonly Thread thread;
        private volatile bool stop;

        public Server(RegisteredMemory memory, byte[] page)
        {
            this.memory = memory;
            this.page = page;
            thread = new Thread(Serve) { IsBackground = true, Name = "uffd test server" };
            thread.Start();
        }

        public int Served { get; private set; }
        public Exception? Failure { get; private set; }

        private void Serve()
        {
            try
            {
                while (!stop)
                {
                    if (!memory.Uffd.WaitForMessage(timeoutMilliseconds: 50)) continue;
                    while (memory.Uffd.TryReadMessage(out var fault))
                    {
                        nint pageStart = (nint)(fault.Address & ~(ulong)(RegisteredMemory.PageSize - 1));
                        memory.Uffd.Copy(pageStart, page);
                        Served++;
                    }
                }
            }
            catch (Exception e)
            {
                Failure = e;
            }
        }

        public bool Stop(TimeSpan timeout)
        {
            stop = true;
            return thread.Join(timeout);
        }
    }

    [Fact]
    public void The_server_serves_touches_then_stops_within_its_poll_timeout()
    {
        using var memory = new RegisteredMemory();
        var served = RegisteredMemory.Pattern(seed: 7);
        var server = new Server(memory, served);

        var touchers = Enumerable.Range(0, RegisteredMemory.Pages).Select(p => memory.Touch(p)).ToList();
        foreach (var toucher in touchers)
        {
            Assert.True(toucher.WaitForCompletion(RegisteredMemory.Patience), "the server did not serve a fault");
            Assert.Null(toucher.Failure);
            Assert.Equal(served, toucher.FileContents());
        }

        Assert.True(server.Stop(TimeSpan.FromSeconds(10)), "the server did not stop when asked");
        Assert.Null(server.Failure);
        Assert.Equal(RegisteredMemory.Pages, server.Served);
    }

    [Fact]
    public void An_idle_server_stops_when_asked()
    {
        using var memory = new RegisteredMemory();
        var server = new Server(memory, RegisteredMemory.Pattern(seed: 8));
        Thread.Sleep(100); // let it block in poll
        Assert.True(server.Stop(TimeSpan.FromSeconds(10)), "an idle server stayed blocked waiting for faults");
        Assert.Null(server.Failure);
    }

    [Fact]
    public void WaitForMessage_times_out_with_nothing_queued_and_TryReadMessage_finds_nothing()
    {
        using var memory = new RegisteredMemory();
        // On a thread of its own, so that a WaitForMessage that ignored its timeout fails the test instead of hanging it.
        bool? ready = null;
        var waiter = new Thread(() => ready = memory.Uffd.WaitForMessage(timeoutMilliseconds: 10)) { IsBackground = true };
        waiter.Start();
        Assert.True(waiter.Join(TimeSpan.FromSeconds(10)), "WaitForMessage(10 ms) did not return");
        Assert.False(ready);
        Assert.False(memory.Uffd.TryReadMessage(out _));
    }
}
