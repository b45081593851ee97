using System.Collections.Concurrent;

namespace Tern.Memory.Postcopy;

/// <summary>
/// An <see cref="IMissingPageSource"/> that serves pages from a copy of guest RAM held in this process: requested pages
/// on a thread of its own, each after an optional delay (standing in for a link's round trip), and, when asked, the
/// pages nobody requested on a second thread at a set pace, as the migration stream will bring them. So a restore can
/// run the guest before all of RAM is in place without a network, and tests can drive the missing-page service with
/// real concurrency between requested and streamed pages.
/// </summary>
public sealed class LocalPageSource : IMissingPageSource, IDisposable
{
    private readonly ReadOnlyMemory<byte> image;
    private readonly TimeSpan requestDelay;
    private readonly ConcurrentQueue<PageIndex> requests = new();
    private readonly SemaphoreSlim requested = new(0);
    private readonly CancellationTokenSource stop = new();
    private readonly List<Thread> threads = [];
    private long served;
    private long pushed;

    /// <param name="image">The whole of guest RAM as it must arrive, from guest-physical address 0.</param>
    /// <param name="requestDelay">How long each requested page takes to come (zero: at once).</param>
    public LocalPageSource(ReadOnlyMemory<byte> image, TimeSpan requestDelay = default)
    {
        if (image.Length % PageSize.Bytes != 0)
            throw new ArgumentException($"a RAM image is a whole number of {PageSize.Bytes}-byte pages, got {image.Length} bytes", nameof(image));
        this.image = image;
        this.requestDelay = requestDelay;
    }

    /// <summary>Requested pages served so far.</summary>
    public long RequestsServed => Interlocked.Read(ref served);

    /// <summary>Pages the background thread has placed so far.</summary>
    public long PagesPushed => Interlocked.Read(ref pushed);

    /// <summary>Set if a serving thread failed (it then stops).</summary>
    public Exception? Failure { get; private set; }

    /// <summary>The page's bytes in the image.</summary>
    public ReadOnlySpan<byte> Page(PageIndex page) => image.Span.Slice(checked((int)page.Address.Value), PageSize.Bytes);

    public void RequestPage(PageIndex page)
    {
        requests.Enqueue(page);
        requested.Release();
    }

    /// <summary>Starts serving requests into <paramref name="service"/>.</summary>
    public void ServeRequests(MissingPageService service) => StartThread("tern local page requests", () =>
    {
        while (true)
        {
            requested.Wait(stop.Token);
            if (!requests.TryDequeue(out var page)) continue;
            if (requestDelay > TimeSpan.Zero) Thread.Sleep(requestDelay);
            service.Place(page, Page(page));
            Interlocked.Increment(ref served);
        }
    });

    /// <summary>
    /// Starts placing every page not yet received into <paramref name="service"/>, in ascending order,
    /// <paramref name="pagesPerMillisecond"/> pages and then a one-millisecond sleep at a time.
    /// </summary>
    public void PushRemaining(MissingPageService service, ReceivedPages received, int pagesPerMillisecond) =>
        StartThread(PushThreadName, () =>
        {
            int inBurst = 0;
            foreach (var page in received.Missing())
            {
                stop.Token.ThrowIfCancellationRequested();
                service.Place(page, Page(page));
                Interlocked.Increment(ref pushed);
                if (++inBurst < pagesPerMillisecond) continue;
                inBurst = 0;
                Thread.Sleep(1);
            }
        });

    private void StartThread(string name, Action body)
    {
        var thread = new Thread(() =>
        {
            try
            {
                body();
            }
            catch (OperationCanceledException)
            {
            }
            catch (Exception e)
            {
                Failure ??= e;
            }
        }) { IsBackground = true, Name = name };
        lock (threads) threads.Add(thread);
        thread.Start();
    }

    /// <summary>Waits for every background push to have placed its pages (true), or for the timeout.</summary>
    public bool WaitForPush(TimeSpan timeout)
    {
        List<Thread> pushes;
        lock (threads) pushes = threads.Where(t => t.Name == PushThreadName).ToList();
        var deadline = DateTime.UtcNow + timeout;
        return pushes.All(t => t.Join(deadline - DateTime.UtcNow is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero));
    }

    private const string PushThreadName = "tern local page push";

    /// <summary>Stops both threads and waits for them.</summary>
    public void Dispose()
    {
        stop.Cancel();
        lock (threads)
        {
            foreach (var thread in threads) thread.Join(TimeSpan.FromSeconds(10));
        }
        stop.Dispose();
        requested.Dispose();
    }
}
