namespace Tern.Guest;

/// <summary>
/// The stateless, counter-based generator behind random and hotcold, and the value written by each write.
/// The guest code and <see cref="WorkloadModel"/> compute exactly these functions; write i of vCPU v depends only on
/// (seed, v, i):
/// <code>
///   key(v)      = seed ^ ((v + 1) * 0xD1B54A32D192ED03)
///   h(v, i)     = splitmix64_finalizer(key(v) + (i + 1) * 0x9E3779B97F4A7C15)          (all mod 2^64)
///   page        = region base + floor(h * pages / 2^64) pages                          (multiply-high, no division)
///   slot        = (h >> 32) &amp; 7; the 8-byte store goes to page offset slot * 512
///   hot?        = (h &amp; 0xFFFFFFFF) &lt; hotThreshold, hotThreshold = floor(p * 2^32) (2^32 when p = 1)
///   value(v, i) = (i + 1) ^ ((v + 1) &lt;&lt; 56)
/// </code>
/// </summary>
public static class WorkloadPrng
{
    public const ulong Golden = 0x9E3779B97F4A7C15;
    public const ulong Mix1 = 0xBF58476D1CE4E5B9;
    public const ulong Mix2 = 0x94D049BB133111EB;
    public const ulong VcpuMix = 0xD1B54A32D192ED03;

    /// <summary>Slots per page: 8-byte stores land at one of 8 offsets, 512 bytes apart.</summary>
    public const int SlotsPerPage = 8;
    public const int SlotStride = 512;

    public static ulong Key(ulong seed, int vcpu) => seed ^ ((ulong)(vcpu + 1) * VcpuMix);

    /// <summary>The 64-bit hash that picks where write <paramref name="i"/> goes.</summary>
    public static ulong Hash(ulong key, ulong i) => Finalize(key + (i + 1) * Golden);

    /// <summary>SplitMix64's output function.</summary>
    public static ulong Finalize(ulong z)
    {
        z = (z ^ (z >> 30)) * Mix1;
        z = (z ^ (z >> 27)) * Mix2;
        return z ^ (z >> 31);
    }

    /// <summary>Maps a hash uniformly onto [0, pages) with a multiply-high.</summary>
    public static ulong PickPage(ulong hash, ulong pages) => Math.BigMul(hash, pages, out _);

    public static int Slot(ulong hash) => (int)((hash >> 32) & (SlotsPerPage - 1));

    public static bool IsHot(ulong hash, ulong hotThreshold) => (hash & 0xFFFF_FFFF) < hotThreshold;

    public static ulong HotThreshold(double p) => p >= 1 ? 1UL << 32 : (ulong)Math.Floor(p * 4294967296.0);

    public static ulong ValueTag(int vcpu) => (ulong)(vcpu + 1) << 56;

    /// <summary>The 8-byte value write <paramref name="i"/> of a vCPU stores (seq, random, hotcold).</summary>
    public static ulong Value(ulong valueTag, ulong i) => (i + 1) ^ valueTag;
}
