using Tern.Memory;

namespace Tern.Migration.Xbzrle;

public sealed partial class XbzrlePageCache
{
    /// <summary>
    /// Changes the capacity, keeping what fits: each entry moves to its set in the new layout, and where a set
    /// overflows the most recently used entries stay. Safe between any two calls during a migration: dropped pages
    /// are simply no longer cached, and the entries kept still equal what the destination holds.
    /// <para>Memory: a shrink works in place (<see cref="ShrinkInPlace"/>), so it never holds more page data than
    /// the cache held before (it needs only about 24 bytes of bookkeeping per slot), and afterwards holds at most its
    /// new capacity plus the unused tail of one chunk. A grow builds the new storage
    /// beside the old, which is released when it returns: while it runs both exist, which is why the sizer lets a
    /// cache grow only as far as the budget minus what it holds (<see cref="XbzrleCacheSizer"/>).</para>
    /// </summary>
    public void Resize(ulong capacityBytes)
    {
        var old = _storage;
        var resized = new Storage(capacityBytes);
        if (resized.Slots == old.Slots && resized.WaysPerSet == old.WaysPerSet) return; // same geometry: nothing moves
        if (resized.Slots < old.Slots)
        {
            ShrinkInPlace(resized);
            return;
        }
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

    /// <summary>
    /// Shrinks into the old storage's own page arrays. Slot numbers run on across chunks of the same size in both
    /// layouts, so the new slots 0..n-1 are a prefix of the old ones and live in the same arrays. First the new
    /// layout is chosen on keys and generations alone (which old slot each new slot takes its page from); then the
    /// pages move within the arrays as a permutation: chains that start at a slot whose old page nobody keeps are
    /// followed to their end, and what remains are cycles, rotated through one page of scratch.
    /// </summary>
    private void ShrinkInPlace(Storage resized)
    {
        var old = _storage;
        if (old.Slots > int.MaxValue) throw new InvalidOperationException("an XBZRLE cache this large cannot shrink in place");
        int newSlots = (int)resized.Slots, oldSlots = (int)old.Slots;

        // 1. The new layout: for each new slot, its key, generation and the old slot holding its page.
        var keys = new ulong[newSlots];
        var generations = new ulong[newSlots];
        var source = new int[newSlots];
        Array.Fill(source, -1);
        for (int c = 0; c < old.ChunkCount; c++)
        {
            var chunk = old.ChunkAt(c);
            if (chunk is null) continue;
            for (int s = 0; s < chunk.Keys.Length; s++)
            {
                ulong key = chunk.Keys[s];
                if (key == 0) continue;
                ulong generation = chunk.Generations[s];
                int first = (int)((key - 1) / _shardCount % resized.Sets * (ulong)resized.WaysPerSet);
                int to = -1, oldest = -1;
                for (int w = 0; w < resized.WaysPerSet && to < 0; w++)
                {
                    int slot = first + w;
                    if (keys[slot] == 0) to = slot;
                    else if (oldest < 0 || generations[slot] < generations[oldest]) oldest = slot;
                }
                if (to < 0)
                {
                    if (generations[oldest] >= generation) continue; // keep the most recently used
                    to = oldest;
                }
                keys[to] = key;
                generations[to] = generation;
                source[to] = c * SlotsPerChunk + s;
            }
        }

        // 2. Move the pages. wanted[o]: the new slot that takes old slot o's page, or -1.
        var wanted = new int[oldSlots];
        Array.Fill(wanted, -1);
        for (int j = 0; j < newSlots; j++)
        {
            if (source[j] == j) source[j] = -1; // already in place
            else if (source[j] >= 0) wanted[source[j]] = j;
        }
        var arrays = new PageArray?[old.ChunkCount];
        for (int c = 0; c < arrays.Length; c++) arrays[c] = old.ChunkAt(c)?.Data;

        for (int j = 0; j < newSlots; j++)
        {
            if (source[j] < 0 || wanted[j] >= 0) continue; // done, or its page is still needed: not a chain start
            int to = j;
            while (true)
            {
                int from = source[to];
                CopySlot(arrays, resized, from, to);
                source[to] = -1;
                wanted[from] = -1;
                if (from >= newSlots || source[from] < 0) break;
                to = from;
            }
        }
        byte[]? scratch = null;
        for (int j = 0; j < newSlots; j++)
        {
            if (source[j] < 0) continue; // what is left are cycles
            scratch ??= new byte[PageSize.Bytes];
            SlotPage(arrays, j).CopyTo(scratch);
            int to = j;
            while (true)
            {
                int from = source[to];
                source[to] = -1;
                if (from == j)
                {
                    scratch.CopyTo(SlotPage(arrays, to));
                    break;
                }
                CopySlot(arrays, resized, from, to);
                to = from;
            }
        }

        // 3. The new chunks over the (reused) arrays; arrays past the new capacity are released.
        long count = 0;
        for (int c = 0; c < resized.ChunkCount; c++)
        {
            if (arrays[c] is not { } data) continue;
            int slots = resized.SlotsOfChunk(c);
            var chunkKeys = keys.AsSpan(c * SlotsPerChunk, slots).ToArray();
            foreach (ulong k in chunkKeys) if (k != 0) count++;
            resized.Install(c, new Chunk(data, chunkKeys, generations.AsSpan(c * SlotsPerChunk, slots).ToArray()));
        }
        _storage = resized;
        Count = count;
        AssertInvariants();
    }

    private static Span<byte> SlotPage(PageArray?[] arrays, int slot) =>
        arrays[slot / SlotsPerChunk]!.Page(slot % SlotsPerChunk);

    /// <summary>Copies old slot <paramref name="from"/>'s page to new slot <paramref name="to"/>, allocating its chunk's array if it had none.</summary>
    private static void CopySlot(PageArray?[] arrays, Storage resized, int from, int to)
    {
        int chunk = to / SlotsPerChunk;
        arrays[chunk] ??= new PageArray(resized.SlotsOfChunk(chunk));
        SlotPage(arrays, from).CopyTo(SlotPage(arrays, to));
    }
}
