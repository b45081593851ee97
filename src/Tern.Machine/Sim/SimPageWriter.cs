using Tern.Guest;
using Tern.Memory;

namespace Tern.Machine.Sim;

/// <summary>
/// Where a simulated vCPU's writes go: guest RAM, remembering every page touched so the vCPU can report them dirty
/// AFTER the writes (see <see cref="TouchedPages"/>).
/// </summary>
internal readonly struct SimPageWriter(GuestRam ram, TouchedPages touched) : IGuestPageWriter
{
    public Span<byte> Page(PageIndex page)
    {
        touched.Add(page);
        return ram.GetPageSpan(page);
    }
}

/// <summary>
/// The pages a batch of simulated writes touched. They are reported to the dirty tracker only after the batch's
/// writes are done: marking before writing would let a sync take the mark, read the page's old contents, and then
/// miss the write that lands just after (KVM is safe because a write after the sync re-protected the page faults
/// again; the simulation gets the same guarantee by marking after).
/// </summary>
internal sealed class TouchedPages(int capacity)
{
    private readonly ulong[] pages = new ulong[capacity];
    private int count;

    public int Count => count;

    public PageIndex this[int i] => new(pages[i]);

    /// <summary>Forgets the pages without reporting them.</summary>
    public void Clear() => count = 0;

    public void Add(PageIndex page)
    {
        if (count > 0 && pages[count - 1] == page.Value) return;
        if (count == pages.Length) throw new InvalidOperationException("a simulated batch touched more pages than it has writes");
        pages[count++] = page.Value;
    }

    /// <summary>Hands every touched page to <paramref name="mark"/> and starts a new batch.</summary>
    public void Drain(Action<PageIndex> mark)
    {
        for (int i = 0; i < count; i++) mark(new PageIndex(pages[i]));
        count = 0;
    }
}

/// <summary>
/// A dry run of a batch of simulated writes: collects the pages the batch will touch and lets the model write into a
/// scratch page, so the vCPU can wait for missing pages before it writes anything (see <see cref="SimVcpu"/>).
/// </summary>
internal readonly struct ProbePageWriter(byte[] scratch, TouchedPages touched) : IGuestPageWriter
{
    public Span<byte> Page(PageIndex page)
    {
        touched.Add(page);
        return scratch;
    }
}
