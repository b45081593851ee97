using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace Tern.Migration.Compression;

/// <summary>
/// A bounded single-producer/single-consumer ring: exactly one thread calls <see cref="TryEnqueue"/> and exactly one
/// (possibly other) thread calls <see cref="TryDequeue"/>. No locks and no interlocked operations: each index has one
/// writer, published with a release write (<see cref="Volatile.Write(ref long, long)"/>) and read by the other side
/// with an acquire read, which also orders the slot access before or after it.
/// </summary>
/// <remarks>
/// The head (consumer) and tail (producer) live on different cache lines, each next to its owner's cached copy of the
/// other index, so the two threads do not false-share a line and each re-reads the other's index only when its
/// cached view says the ring is full or empty. Slots keep their reference after a dequeue (clearing it would write to
/// the producer's lines); the items are pooled objects that live as long as the pipeline anyway.
/// </remarks>
internal sealed class SpscRing<T> where T : class
{
    private readonly T?[] _slots;
    private readonly long _mask;
    private SpscRingIndices _indices;

    public SpscRing(int capacity)
    {
        if (capacity < 1 || !int.IsPow2(capacity))
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "ring capacity must be a power of two");
        _slots = new T?[capacity];
        _mask = capacity - 1;
    }

    public int Capacity => _slots.Length;

    /// <summary>Producer only. Returns false when the ring is full.</summary>
    public bool TryEnqueue(T item)
    {
        var tail = _indices.Tail;
        if (tail - _indices.CachedHead >= _slots.Length)
        {
            _indices.CachedHead = Volatile.Read(ref _indices.Head);
            if (tail - _indices.CachedHead >= _slots.Length) return false;
        }
        _slots[tail & _mask] = item;
        Volatile.Write(ref _indices.Tail, tail + 1);
        return true;
    }

    /// <summary>Consumer only. Returns false when the ring is empty.</summary>
    public bool TryDequeue([NotNullWhen(true)] out T? item)
    {
        var head = _indices.Head;
        if (head >= _indices.CachedTail)
        {
            _indices.CachedTail = Volatile.Read(ref _indices.Tail);
            if (head >= _indices.CachedTail)
            {
                item = null;
                return false;
            }
        }
        item = _slots[head & _mask]!;
        Volatile.Write(ref _indices.Head, head + 1);
        return true;
    }

    /// <summary>Items in the ring, from either side: exact for the calling side's own index, a moment old for the other's.</summary>
    public int Count => (int)(Volatile.Read(ref _indices.Tail) - Volatile.Read(ref _indices.Head));

    /// <summary>Consumer only: whether an item is ready, without taking it.</summary>
    public bool HasItems
    {
        get
        {
            var head = _indices.Head;
            if (head < _indices.CachedTail) return true;
            _indices.CachedTail = Volatile.Read(ref _indices.Tail);
            return head < _indices.CachedTail;
        }
    }
}

/// <summary>
/// The indices of an <see cref="SpscRing{T}"/> (outside it: a generic type cannot have explicit layout). Head and tail 128 bytes apart, with 64 bytes of padding before the head and after the tail, so neither shares a
/// cache line with the other or with the ring's other fields.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 320)]
internal struct SpscRingIndices
{
    /// <summary>Next slot to dequeue; written by the consumer only.</summary>
    [FieldOffset(64)] public long Head;
    /// <summary>The consumer's last view of <see cref="Tail"/>.</summary>
    [FieldOffset(72)] public long CachedTail;
    /// <summary>Next slot to fill; written by the producer only.</summary>
    [FieldOffset(192)] public long Tail;
    /// <summary>The producer's last view of <see cref="Head"/>.</summary>
    [FieldOffset(200)] public long CachedHead;
}
