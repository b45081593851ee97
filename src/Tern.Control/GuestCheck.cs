using Tern.Guest;

namespace Tern.Control;

/// <summary>
/// What <c>x-check-guest</c> found: guest RAM compared byte for byte with what the workload model says the guest
/// wrote, given the per-vCPU counters read in the same pause.
/// </summary>
/// <param name="Workload">The guest's workload, as given to <c>--workload</c>.</param>
/// <param name="Counters">Each vCPU's write counter, read while the guest was paused for the check.</param>
/// <param name="Report">The model's verdict: exact or not, pages checked, the first mismatches.</param>
/// <param name="Paused">How long the guest was held paused for the check (zero if it was not running).</param>
public sealed record GuestCheck(string Workload, IReadOnlyList<ulong> Counters, VerificationReport Report, TimeSpan Paused);
