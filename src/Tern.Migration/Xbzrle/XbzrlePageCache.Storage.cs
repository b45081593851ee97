using Tern.Memory;

namespace Tern.Migration.Xbzrle;

public sealed partial class XbzrlePageCache
{
    /// <summary>
    /// Slots per chunk: 4 MiB of page data. A multiple of <see cref="Ways"/>, so no set straddles chunks. Small enough
    /// that lazy allocation follows the cache's filling closely and that a shrink in place, which keeps the arrays of
    /// the chunks it still uses, holds at most one chunk's worth beyond its new capacity; large enough that even a
    /// 64 GiB cache has only 16384 of them.
    /// </summary>
    internal const int SlotsPerChunk = 1024;

    /// <summary>One lazily allocated piece of the cache: page data with each slot's key and generation.</summary>
    private sealed class Chunk
    {
        public Chunk(int slots)
        {
            // Uninitialised: a slot's bytes are read only after a Store wrote them, and the OS backs the memory
            // only as it is touched. Page-aligned, like the guest pages they are encoded against.
            Data = new PageArray(slots);
            Keys = new ulong[slots];
            Generations = new ulong[slots];
        }

        /// <summary>A chunk over existing page data (a shrink reuses the old storage's arrays), with its slots' metadata.</summary>
        public Chunk(PageArray data, ulong[] keys, ulong[] generations)
        {
            Data = data;
            Keys = keys;
            Generations = generations;
        }

        public PageArray Data { get; }
        public ulong[] Keys { get; }
        public ulong[] Generations { get; }

        public Span<byte> Page(int slot) => Data.Page(slot);
    }

    /// <summary>Where a set lives: its chunk (null if not allocated yet), its first slot there, and its ways.</summary>
    private readonly record struct SetLocation(Chunk? Chunk, int FirstSlot, int Ways);

    /// <summary>The geometry of a cache of a given size and its chunks.</summary>
    private sealed class Storage
    {
        private readonly Chunk?[] _chunks;

        public Storage(ulong requestedBytes)
        {
            ulong pages = requestedBytes / PageSize.Bytes;
            if (pages == 0)
                throw new ArgumentOutOfRangeException(nameof(requestedBytes), requestedBytes,
                    $"an XBZRLE cache must hold at least one page ({PageSize.Bytes} bytes)");
            RequestedBytes = requestedBytes;
            WaysPerSet = (int)Math.Min((ulong)Ways, pages);
            Sets = pages / (ulong)WaysPerSet;
            Slots = Sets * (ulong)WaysPerSet;
            _chunks = new Chunk?[(int)((Slots + SlotsPerChunk - 1) / SlotsPerChunk)];
        }

        public ulong RequestedBytes { get; }
        public int WaysPerSet { get; }
        public ulong Sets { get; }
        public ulong Slots { get; }
        public ulong AllocatedBytes { get; private set; }

        public int ChunkCount => _chunks.Length;

        public Chunk? ChunkAt(int index) => _chunks[index];

        /// <summary>Slots of chunk <paramref name="index"/> in this geometry (the last chunk may be partial).</summary>
        public int SlotsOfChunk(int index) => (int)Math.Min(SlotsPerChunk, Slots - (ulong)index * SlotsPerChunk);

        /// <summary>Installs a chunk built elsewhere (by a shrink in place); counts the memory its data holds.</summary>
        public void Install(int index, Chunk chunk)
        {
            _chunks[index] = chunk;
            AllocatedBytes += (ulong)chunk.Data.Bytes;
        }

        public SetLocation Locate(ulong set)
        {
            ulong first = set * (ulong)WaysPerSet;
            return new SetLocation(_chunks[(int)(first / SlotsPerChunk)], (int)(first % SlotsPerChunk), WaysPerSet);
        }

        public SetLocation LocateForWrite(ulong set)
        {
            ulong first = set * (ulong)WaysPerSet;
            int index = (int)(first / SlotsPerChunk);
            var chunk = _chunks[index];
            if (chunk is null)
            {
                ulong slotsHere = Math.Min(SlotsPerChunk, Slots - (ulong)index * SlotsPerChunk);
                chunk = _chunks[index] = new Chunk((int)slotsHere);
                AllocatedBytes += slotsHere * PageSize.Bytes;
            }
            return new SetLocation(chunk, (int)(first % SlotsPerChunk), WaysPerSet);
        }
    }
}
