using Tern.Migration.Api;

namespace Tern.Bench.Macro;

/// <summary>
/// Issue 11's post-copy figures, on real KVM. <c>switch</c>: the acceptance scenario, a 1 GiB guest rewriting 512 MiB
/// (<c>seq:ws=512M</c>) over a 100 MiB/s link, switched to post-copy after its first pass, under Tern and under QEMU
/// 7.2 (the same exported guest) in alternating rounds; <c>faults</c>: a guest touching random pages while the
/// background stream trickles, its fault latency next to a loopback round trip of one page measured just before;
/// <c>gib</c>: a whole GiB fetched after the switch, next to loopback TCP moving a GiB in the same run. Each table
/// also gives the guest's progress during post-copy against its own rate, not migrating, just before.
/// </summary>
public static class PostcopyBenchmark
{
    private const ulong Link = 100 << 20;
    private const ulong GiB = 1 << 30;

    public static void Run(MacroOptions options, TextWriter output)
    {
        var backend = MachineBackendChoice.KvmLog;
        if (backend.Unavailable is { } why)
        {
            output.WriteLine($"postcopy: skipped ({why})");
            return;
        }
        if (options.Runs("switch")) Switch(options, backend, output);
        if (options.Runs("faults")) Faults(options, backend, output);
        if (options.Runs("gib")) WholeGib(options, backend, output);
    }

    /// <summary>The acceptance scenario, Tern and QEMU 7.2 in alternating rounds with the same settings.</summary>
    private static void Switch(MacroOptions options, MachineBackendChoice backend, TextWriter output)
    {
        const string workload = "seq:ws=512M";
        string? noQemu = QemuGuestProcess.Unavailable();
        if (noQemu is not null) output.WriteLine($"  QEMU 7.2: skipped ({noQemu})");
        // max-postcopy-bandwidth as QEMU 7.2 has it by default (0: unlimited after the switch), and both capped at the link.
        (string Name, ulong PostcopyBandwidth)[] links = [("max-postcopy-bandwidth 0 (QEMU's default)", 0), ($"max-postcopy-bandwidth {Link >> 20} MiB/s", Link)];
        var table = new TextTable("round", "post-copy link", "Tern total s", "QEMU total s", "Tern / QEMU", "downtime ms Tern / QEMU",
            "in post-copy ms Tern / QEMU", "postcopy-requests Tern / QEMU", "Tern faults, p50 / p99 µs", "x-verify, guest model (Tern)",
            "guest in post-copy / before, Tern / QEMU");
        var ratios = links.ToDictionary(l => l.Name, _ => new Samples());
        var all = links.ToDictionary(l => l.Name, _ => (Tern: new List<PostcopyOutcome>(), Qemu: new List<PostcopyOutcome>()));
        for (int round = 1; round <= options.Repeat; round++)
        {
            foreach (var (name, postcopyBandwidth) in links)
            {
                var tern = TernPostcopyRun.Migrate(backend, workload, GiB, Link, s => s.SetParameters(s.Parameters with { MaxPostcopyBandwidth = postcopyBandwidth }),
                    null, options.EngineLog);
                output.WriteLine($"  round {round}, {name}, Tern: {tern}");
                var qemu = noQemu is null ? QemuPostcopyRun.Migrate(workload, GiB, Link, postcopyBandwidth, options.EngineLog) : null;
                if (qemu is not null) output.WriteLine($"  round {round}, {name}, QEMU 7.2: {qemu}");
                all[name].Tern.Add(tern);
                if (qemu is not null) all[name].Qemu.Add(qemu);
                double ratio = qemu is { Completed: true } && tern.Completed ? tern.TotalMs / qemu.TotalMs : double.NaN;
                if (!double.IsNaN(ratio)) ratios[name].Add(ratio);
                table.Add($"{round}", name, Seconds(tern), qemu is null ? "-" : Seconds(qemu), Units.Ratio(ratio),
                    $"{Units.Fixed(tern.DowntimeMs, 0)} / {Units.Fixed(qemu?.DowntimeMs ?? double.NaN, 0)}",
                    $"{Units.Fixed(tern.PostcopyMs, 0)} / {Units.Fixed(qemu?.PostcopyMs ?? double.NaN, 0)}",
                    $"{tern.PostcopyRequests} / {qemu?.PostcopyRequests.ToString() ?? "-"}",
                    $"{tern.Faults}, {tern.FaultP50Us?.ToString() ?? "-"} / {tern.FaultP99Us?.ToString() ?? "-"}",
                    $"{Check(tern.Verified)}, {Check(tern.GuestExact)}",
                    $"{Units.Fixed(tern.ProgressRatio)} / {Units.Fixed(qemu?.ProgressRatio ?? double.NaN)}");
            }
        }
        foreach (var (name, _) in links)
        {
            var (tern, qemu) = all[name];
            table.Add("median", name, Units.Fixed(Median(tern, r => r.TotalMs / 1000)), Units.Fixed(Median(qemu, r => r.TotalMs / 1000)), Units.Ratio(ratios[name].Median),
                $"{Units.Fixed(Median(tern, r => r.DowntimeMs), 0)} / {Units.Fixed(Median(qemu, r => r.DowntimeMs), 0)}",
                $"{Units.Fixed(Median(tern, r => r.PostcopyMs), 0)} / {Units.Fixed(Median(qemu, r => r.PostcopyMs), 0)}",
                $"{Units.Fixed(Median(tern, r => r.PostcopyRequests), 0)} / {Units.Fixed(Median(qemu, r => r.PostcopyRequests), 0)}",
                $"{Units.Fixed(Median(tern, r => r.Faults), 0)}, {Units.Fixed(Median(tern, r => r.FaultP50Us ?? double.NaN), 0)} / {Units.Fixed(Median(tern, r => r.FaultP99Us ?? double.NaN), 0)}",
                $"{tern.Count(r => r.Verified == true)}/{tern.Count}, {tern.Count(r => r.GuestExact == true)}/{tern.Count}",
                $"{Units.Fixed(Median(tern, r => r.ProgressRatio))} / {Units.Fixed(Median(qemu, r => r.ProgressRatio))}");
        }
        output.WriteLine();
        output.WriteLine($"Post-copy switch (issue 11's acceptance): KVM, {Units.Gib(GiB)}, 1 vCPU, {workload}, max-bandwidth {Link >> 20} MiB/s, " +
            $"post-copy asked for during pass 1 (Tern starts it when the pass ends; QEMU is asked once dirty-sync-count reaches 2, the sync ending pass 1); " +
            $"{options.Repeat} rounds, Tern and QEMU 7.2 alternating.");
        output.WriteLine("Total: query-migrate's total-time. In post-copy: from the status postcopy-active to completed (polled). Faults: the destination's " +
            "fault-latency histogram (bucket upper bounds). Guest: its writes/s from the switch to completion against the second before the migration.");
        output.WriteLine(table);
    }

    /// <summary>A guest faulting on random pages while the background stream trickles: the urgent lane's round trip.</summary>
    private static void Faults(MacroOptions options, MachineBackendChoice backend, TextWriter output)
    {
        const string workload = "random:ws=128M";
        const ulong memory = 256 << 20;
        var table = new TextTable("round", "loopback 4 KiB round trip p50 / p99 µs", "fault p50 / p99 µs (histogram)", "fault / loopback p50",
            "faults", "vCPU blocked ms (mean per fault µs)", "in post-copy ms", "guest in post-copy / before", "x-verify, guest model");
        for (int round = 1; round <= options.Repeat; round++)
        {
            var rtt = LoopbackRoundTrip.Measure(20_000);
            // Pre-copy at the link's pace; after the switch the background sends 1 MiB/s, so the guest's faults fetch its pages.
            var run = TernPostcopyRun.Migrate(backend, workload, memory, Link, s => s.SetParameters(s.Parameters with { MaxPostcopyBandwidth = 1 << 20 }),
                null, options.EngineLog);
            output.WriteLine($"  round {round}: loopback p50 {rtt.Median:0} µs, p99 {rtt.Percentile(0.99):0} µs; Tern: {run}");
            table.Add($"{round}", $"{rtt.Median:0} / {rtt.Percentile(0.99):0}", $"{run.FaultP50Us?.ToString() ?? "-"} / {run.FaultP99Us?.ToString() ?? "-"}",
                Units.Ratio((run.FaultP50Us ?? double.NaN) / rtt.Median), $"{run.Faults}", run.VcpuBlockedMs is { } blocked && run.Faults > 0 ? $"{blocked} ({blocked * 1000.0 / run.Faults:0})" : "-", Units.Fixed(run.PostcopyMs, 0),
                Units.Fixed(run.ProgressRatio), $"{Check(run.Verified)}, {Check(run.GuestExact)}");
        }
        output.WriteLine();
        output.WriteLine($"Post-copy fault latency: KVM, {Units.Gib(memory)}, 1 vCPU, {workload}, pre-copy at {Link >> 20} MiB/s, switched after pass 1, " +
            "background stream at max-postcopy-bandwidth 1 MiB/s (so the guest's own faults fetch its pages); loopback: 20,000 round trips " +
            "of an 8-byte request and a 4 KiB answer, just before each migration. The histogram's figures are bucket upper bounds (10, 20, 50, 100, ... µs).");
        output.WriteLine(table);
    }

    /// <summary>A whole GiB stale at the switch, fetched after it, next to loopback TCP moving a GiB.</summary>
    private static void WholeGib(MacroOptions options, MachineBackendChoice backend, TextWriter output)
    {
        const string workload = "seq:ws=960M";
        var table = new TextTable("round", "stale at the switch MiB", "switch to last page ms", "post-copy MiB/s", "loopback TCP MiB/s",
            "loopback time for the same bytes ms", "post-copy / loopback time", "faults", "guest in post-copy / before", "x-verify, guest model");
        for (int round = 1; round <= options.Repeat; round++)
        {
            double loopback = LoopbackThroughput.Measure(1, TimeSpan.FromSeconds(2));
            var run = TernPostcopyRun.Migrate(backend, workload, GiB, Link, null, null, options.EngineLog);
            output.WriteLine($"  round {round}: loopback {loopback / (1 << 20):0} MiB/s; Tern: {run}");
            double bytes = run.PostcopyPages * 4096.0;
            double ms = run.LastPageMs ?? double.NaN;
            double loopbackMs = bytes / loopback * 1000;
            table.Add($"{round}", Units.Fixed(bytes / (1 << 20), 0), Units.Fixed(ms, 0), Units.Fixed(bytes / (1 << 20) / (ms / 1000), 0),
                Units.Fixed(loopback / (1 << 20), 0), Units.Fixed(loopbackMs, 0), Units.Ratio(ms / loopbackMs), $"{run.Faults}",
                Units.Fixed(run.ProgressRatio), $"{Check(run.Verified)}, {Check(run.GuestExact)}");
        }
        output.WriteLine();
        output.WriteLine($"Post-copy of a GiB: KVM, {Units.Gib(GiB)}, 1 vCPU, {workload} (the whole working set is rewritten during a {Link >> 20} MiB/s " +
            "first pass, so it is all stale at the switch), max-postcopy-bandwidth 0. Switch to last page: the destination's own figure, from the " +
            "resume to the last page placed. Loopback: one TCP stream, 1 MiB buffers, 2 s, just before each migration.");
        output.WriteLine(table);
    }

    private static string Seconds(PostcopyOutcome r) => r.Completed ? Units.Fixed(r.TotalMs / 1000) : "failed";

    private static string Check(bool? ok) => ok switch { true => "yes", false => "NO", null => "-" };

    private static double Median(IEnumerable<PostcopyOutcome> runs, Func<PostcopyOutcome, double> of)
    {
        var samples = new Samples();
        foreach (var r in runs.Where(r => r.Completed)) samples.Add(of(r));
        return samples.Median;
    }
}
