using Tern.Guest;

namespace Tern.Migration.Engine;

/// <summary>
/// What a destination accepts from a source, whatever the source claims. A Hello is only a claim from the network: the
/// destination builds nothing bigger than it was started with (<c>tern run --incoming ... --memory 128M --vcpus 2</c>),
/// and a stream that keeps it busy without moving the migration on is cut off and called what it is. Immutable; the
/// defaults are named and say why.
/// </summary>
public sealed record DestinationLimits
{
    /// <summary>The most guest RAM a Hello may ask for; null means the host's memory (MemTotal).</summary>
    public ulong? MemoryBytes { get; init; }

    /// <summary>The most vCPUs a Hello may ask for; null means Tern's maximum (<see cref="GuestBuildOptions.MaxVcpus"/>).</summary>
    public int? Vcpus { get; init; }

    /// <summary>
    /// The watchdog's window: while a migration is under way the source must deliver at least
    /// <see cref="MinimumProgressBytes"/> within every window this long, or the attempt ends. 30 s: a live source sends
    /// pages many times a second, and its longest silence (syncing the dirty log, hashing RAM for verification) is
    /// seconds. In post-copy, with pages still missing, a window with nothing at all on any connection pauses the
    /// migration instead (the link hangs; it can be recovered), and a trickle is allowed (max-postcopy-bandwidth).
    /// </summary>
    public TimeSpan ProgressWindow { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The fewest bytes per <see cref="ProgressWindow"/> that count as a migration moving on: 4 KiB, one page. Bytes
    /// count as they arrive, partial frames too, so a slow link is never mistaken for a silent one; a source that
    /// cannot move one page in 30 s is trickling (a broken link, or a peer holding the destination). A real source writes
    /// each frame (up to 256 KiB) whole once its max-bandwidth allows, so it either moves far more than this or nothing.
    /// </summary>
    public long MinimumProgressBytes { get; init; } = 4096;

    /// <summary>
    /// How long Complete waits for an extra page channel to end the final pass while no byte arrives on it. Its
    /// PassEnd may still be on the way (another socket), but a channel that sends nothing for this long will not send it.
    /// </summary>
    public TimeSpan FinalPassGrace { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The problem with these limits in the operator's words, or null if they are usable.</summary>
    public string? Validate()
    {
        if (MemoryBytes is 0) return "the memory limit must be more than 0 bytes";
        if (Vcpus is { } v && (v < 1 || v > GuestBuildOptions.MaxVcpus)) return $"the vCPU limit must be 1 to {GuestBuildOptions.MaxVcpus}, not {v}";
        if (ProgressWindow <= TimeSpan.Zero) return "the progress window must be longer than 0";
        if (MinimumProgressBytes < 1) return "the minimum progress must be at least 1 byte";
        if (FinalPassGrace <= TimeSpan.Zero) return "the final-pass grace must be longer than 0";
        return null;
    }
}
