using Tern.Memory;
using Tern.Os;

namespace Tern.Migration.Xbzrle;

/// <summary>How many host bytes Tern may spend on caches (the XBZRLE cache first), and why that many.</summary>
/// <param name="Bytes">The budget.</param>
/// <param name="Reason">Where it came from, for the log: "memory budget 2 GiB: a quarter of 8 GiB available".</param>
public sealed record MemoryBudget(ulong Bytes, string Reason)
{
    /// <summary>
    /// The share of MemAvailable Tern takes by default: a quarter. MemAvailable is what the host can give without
    /// swapping, but it is not Tern's alone: the guest itself may still fault in memory it has not touched yet, a
    /// destination on the same host needs room for a whole copy of the guest, and the kernel wants its page cache.
    /// Swapping the XBZRLE cache would cost far more than the cache saves, and running the host out of memory
    /// risks the OOM killer choosing the VM, so the default leaves three quarters to everything else.
    /// </summary>
    public const double DefaultShareOfAvailable = 0.25;

    /// <summary>
    /// The default budget: <see cref="DefaultShareOfAvailable"/> of the memory available to Tern's caches, which is
    /// MemAvailable plus what <paramref name="heldByCaches"/> (the XBZRLE cache's storage) already holds. MemAvailable
    /// alone would not do: once the cache has taken its share, MemAvailable is lower by that much, and a budget
    /// re-read from it every pass would shrink the cache pass after pass.
    /// </summary>
    public static MemoryBudget Default(HostMemoryInfo host, ulong heldByCaches = 0)
    {
        ArgumentNullException.ThrowIfNull(host);
        ulong usable = host.AvailableBytes + heldByCaches;
        ulong bytes = (ulong)(usable * DefaultShareOfAvailable);
        string of = heldByCaches == 0
            ? $"{ByteSize.Format(host.AvailableBytes)} available on the host"
            : $"{ByteSize.Format(usable)} ({ByteSize.Format(host.AvailableBytes)} available on the host + {ByteSize.Format(heldByCaches)} the cache holds)";
        return new MemoryBudget(bytes, $"memory budget {ByteSize.Format(bytes)}: a quarter of {of}");
    }

    /// <summary>
    /// The operator's budget (<c>x-memory-budget</c>) when it is set (non-zero), else <see cref="Default"/> with
    /// <paramref name="heldByCaches"/>.
    /// </summary>
    public static MemoryBudget Resolve(ulong configuredBytes, HostMemoryInfo host, ulong heldByCaches = 0) =>
        configuredBytes != 0
            ? new MemoryBudget(configuredBytes, $"memory budget {ByteSize.Format(configuredBytes)}: as configured (x-memory-budget)")
            : Default(host, heldByCaches);

    public override string ToString() => Reason;
}
