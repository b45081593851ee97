namespace Tern.Bench.Macro;

/// <summary>One migration switched to post-copy after its first pass, as the post-copy tables report it (Tern or QEMU).</summary>
/// <param name="TotalMs">query-migrate's total-time (from the migrate command to completion).</param>
/// <param name="PostcopyMs">From the status turning postcopy-active to completed, as polled every few ms.</param>
/// <param name="LastPageMs">Tern's own figure: from the resume on the destination to the last page's arrival (null for QEMU).</param>
/// <param name="PostcopyPages">Pages sent after the switch (Tern: stale pages; QEMU: postcopy-bytes / 4096).</param>
/// <param name="RateBefore">The guest's writes/s in the second before the migration (not migrating, same run).</param>
/// <param name="RateInPostcopy">Its writes/s from the switch to completion (destination's counter minus the source's at the pause).</param>
/// <param name="Verified">x-verify matched (Tern); null when not checked.</param>
/// <param name="GuestExact">The destination's RAM matched the workload model after completion (Tern); null when not checked.</param>
public sealed record PostcopyOutcome(
    bool Completed, double TotalMs, double DowntimeMs, double PostcopyMs, double? LastPageMs, long PostcopyRequests, long PostcopyPages,
    long Faults, long? FaultP50Us, long? FaultP99Us, long? VcpuBlockedMs, double RateBefore, double RateInPostcopy, bool? Verified, bool? GuestExact, string? Error)
{
    public double ProgressRatio => RateInPostcopy / RateBefore;

    /// <summary>Tern: the busiest threads of this process from the switch to completion, CPU seconds (of which in the kernel).</summary>
    public string? CpuInPostcopy { get; init; }

    public override string ToString() =>
        (Completed ? "completed" : $"FAILED ({Error})") +
        $" in {TotalMs / 1000:0.00} s, downtime {DowntimeMs:0} ms, post-copy {PostcopyMs:0} ms" + (LastPageMs is { } l ? $" (last page {l:0} ms after resume)" : "") +
        $", {PostcopyPages} pages after the switch, {PostcopyRequests} requests" + (FaultP50Us is { } p50 ? $", {Faults} faults, p50 {p50} µs, p99 {FaultP99Us} µs" : "") +
        $", guest {RateInPostcopy:0} writes/s in post-copy against {RateBefore:0} before ({ProgressRatio:0.00})" +
        (Verified is { } v ? $", x-verify {(v ? "matched" : "DIFFERED")}" : "") + (GuestExact is { } g ? $", guest model {(g ? "exact" : "NOT EXACT")}" : "") +
        (CpuInPostcopy is { } cpu ? $"; CPU in post-copy: {cpu}" : "");
}
