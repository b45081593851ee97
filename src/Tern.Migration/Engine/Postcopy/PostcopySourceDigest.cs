using Tern.Memory;
using Tern.Memory.Dirty;
using Tern.Memory.Postcopy;
using Tern.Migration.Pages;

namespace Tern.Migration.Engine.Postcopy;

/// <summary>
/// x-verify's digest of the source's RAM after post-copy (<see cref="PageSetDigest"/>), computed while post-copy runs
/// instead of after the destination's PostcopyDone: each stale page is added when it is first sent (it is in the cache
/// then), and the pages the destination held at the switch are added by a thread of its own once the guest runs
/// there. RAM does not change after the pause, so it does not matter which comes first; each page is added once.
/// Hashing all of RAM after PostcopyDone added about 0.1 s per 512 MiB of data to every verified post-copy.
/// </summary>
internal sealed class PostcopySourceDigest : IDisposable
{
    private readonly IGuestMemory memory;
    private readonly DirtyBitmap stale;
    private readonly PageSetDigest digest = new();
    /// <summary>Pages added so far (a concurrent set: "received" here means hashed).</summary>
    private readonly ReceivedPages added;
    private readonly object gate = new();
    private Thread? heldPages;
    private volatile bool stopping;
    private bool disposed;

    /// <param name="stale">The pages the destination did not hold at the switch (set = stale).</param>
    public PostcopySourceDigest(IGuestMemory memory, DirtyBitmap stale)
    {
        this.memory = memory;
        this.stale = stale;
        added = new ReceivedPages(memory.PageCount);
    }

    /// <summary>A page as it is sent (from either lane, read from the paused RAM).</summary>
    public void AddSent(PageIndex page, ReadOnlySpan<byte> data)
    {
        if (!added.Mark(page)) return;
        lock (gate)
            if (!disposed) digest.Add(page, data);
    }

    /// <summary>Starts hashing the pages the destination held at the switch; call once the guest runs there.</summary>
    public void StartHeldPages()
    {
        heldPages = new Thread(() => AddFromRam(page => !stale.IsSet(page))) { IsBackground = true, Name = "tern verify digest" };
        heldPages.Start();
    }

    /// <summary>The digest of all of RAM: waits for the held pages, then adds any page not sent (none, unless asked to stop early).</summary>
    public (ulong Value, long Pages) Finish()
    {
        heldPages?.Join();
        AddFromRam(_ => true);
        lock (gate) return (digest.Value, digest.Pages);
    }

    private void AddFromRam(Func<PageIndex, bool> pick)
    {
        foreach (var range in memory.PopulatedRanges())
            for (ulong p = range.FirstPage.Value; p < range.FirstPage.Value + range.PageCount; p++)
            {
                if (stopping) return;
                var page = new PageIndex(p);
                if (pick(page)) AddSent(page, memory.GetSpan(page.Address, PageSize.Bytes));
            }
    }

    /// <summary>Stops the held-pages thread (it reads the source's RAM) before the digest goes.</summary>
    public void Dispose()
    {
        stopping = true;
        heldPages?.Join();
        lock (gate)
        {
            disposed = true;
            digest.Dispose();
        }
    }
}
