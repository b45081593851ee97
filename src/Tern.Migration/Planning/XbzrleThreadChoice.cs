using System.Globalization;

namespace Tern.Migration.Planning;

/// <summary>
/// How many threads encode XBZRLE in the next pass: the operator's <c>x-xbzrle-threads</c>, or (0: automatic) as many
/// as it takes for the encoding to keep up with the link, from what the last XBZRLE pass measured: the wire bytes one
/// thread's encoding produced per second of its work, against the rate the link carried while it was writing. One
/// thread that keeps up stays one (handing pages to workers costs a little); never more threads than the host has
/// cores (more would only take turns on them) or than <see cref="MaxThreads"/>.
/// </summary>
public static class XbzrleThreadChoice
{
    /// <summary>The most encoding threads (the cache's most shards).</summary>
    public const int MaxThreads = 64;

    /// <param name="configured"><c>x-xbzrle-threads</c>: 0 for automatic.</param>
    /// <param name="cores">The host's cores.</param>
    /// <param name="encodeBytesPerThreadSecond">Wire bytes the last XBZRLE pass's encoding produced per thread-second; null if not measured.</param>
    /// <param name="linkBytesPerSecond">What the link carried while writing in that pass; null if not measured.</param>
    /// <param name="maxBandwidth"><c>max-bandwidth</c> (0: unlimited): the link carries no more than this, though a
    /// short pass may fit in the limiter's burst and measure the raw link.</param>
    public static (int Threads, string Reason) ForNextPass(int configured, int cores, double? encodeBytesPerThreadSecond, double? linkBytesPerSecond,
        ulong maxBandwidth = 0)
    {
        int cap = Math.Clamp(cores, 1, MaxThreads);
        string capped = Invariant($"capped at the host's {cap} cores");
        if (configured > 0)
            return configured <= cap
                ? (configured, Invariant($"x-xbzrle-threads is {configured}"))
                : (cap, Invariant($"x-xbzrle-threads is {configured}, {capped}"));
        if (encodeBytesPerThreadSecond is not > 0 || linkBytesPerSecond is not > 0)
            return (1, "automatic: XBZRLE encoding not measured yet, so one thread");
        double encode = encodeBytesPerThreadSecond.Value, link = linkBytesPerSecond.Value;
        bool limited = maxBandwidth > 0 && maxBandwidth < link;
        if (limited) link = maxBandwidth;
        string figures = Invariant($"one thread's encoding produces {Mib(encode)} MiB/s of wire bytes, the link carries {Mib(link)} MiB/s") +
            (limited ? " (max-bandwidth)" : "");
        if (link <= encode) return (1, $"automatic: {figures}, so one thread keeps up");
        double needed = Math.Ceiling(link / encode);
        return needed <= cap
            ? ((int)needed, Invariant($"automatic: {figures}, so {needed:0} threads keep up"))
            : (cap, Invariant($"automatic: {figures}, so {Math.Min(needed, 1e6):0} threads would keep up; {capped}"));
    }

    private static string Mib(double bytesPerSecond) => (bytesPerSecond / (1 << 20)).ToString("0.0", CultureInfo.InvariantCulture);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
