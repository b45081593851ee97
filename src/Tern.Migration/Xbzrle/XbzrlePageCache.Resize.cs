using Tern.Memory;

namespace Tern.Migration.Xbzrle;

public sealed partial class XbzrlePageCache
{
    /// <summary>
    /// Changes the capacity, keeping what fits: each entry moves to its set in the new layout, and where a set
    /// overflows the most recently used entries stay. Safe between any two calls during a migration: dropped pages
    /// are simply no longer cached, and the entries kept still equal what the destination holds. While it runs the
    /// old and the new storage both exist; the old is released when it returns.
    /// </summary>
    public void Resize(ulong capacityBytes)
    {
        var old = _storage;
        var resized = new Storage(capacityBytes);
        if (resized.Slots == old.Slots && resized.WaysPerSet == old.WaysPerSet) return; // same geometry: nothing moves
        long count = 0;
        for (int c = 0; c < old.ChunkCount; c++)
        {
            var chunk = old.ChunkAt(c);
            if (chunk is null) continue;
            for (int slot = 0; slot < chunk.Keys.Length; slot++)
            {
                ulong key = chunk.Keys[slot];
                if (key == 0) continue;
                if (Move(resized, new PageIndex(key - 1), chunk.Page(slot), chunk.Generations[slot])) count++;
            }
        }
        _storage = resized;
        Count = count;
        AssertInvariants();
    }

    /// <summary>Places one entry in the new storage; returns whether it took a way that was empty.</summary>
    private bool Move(Storage storage, PageIndex page, ReadOnlySpan<byte> content, ulong generation)
    {
        var set = storage.LocateForWrite((page.Value / _shardCount) % storage.Sets);
        var chunk = set.Chunk!;
        int oldest = -1;
        for (int w = 0; w < set.Ways; w++)
        {
            int slot = set.FirstSlot + w;
            if (chunk.Keys[slot] == 0)
            {
                Store(chunk, slot, page.Value + 1, content, generation);
                return true;
            }
            if (oldest < 0 || chunk.Generations[slot] < chunk.Generations[oldest]) oldest = slot;
        }
        // The set is full: keep the most recently used of its entries and this one.
        if (chunk.Generations[oldest] < generation) Store(chunk, oldest, page.Value + 1, content, generation);
        return false;
    }
}
