using System.Globalization;
using Tern.Guest;
using Tern.Machine;
using Tern.Memory;
using Tern.Migration.Api;

namespace Tern.Bench.Macro;

/// <summary>
/// Issue 12, item 2: a guest whose RAM is full and no longer changing (<c>fill:ws=...</c>: one pass over its working
/// set, then rest), migrated over loopback without a bandwidth cap with 1 and 2 page channels, next to loopback TCP
/// over as many streams measured in the same run. Per step, from the threads' own CPU time and page faults
/// (<see cref="ThreadCpuSampler"/>): the source's scan and encode (its migration thread), its channel writers (the
/// syscalls that copy frames into the kernel), the destination's receive and apply threads, and the vCPUs.
/// KVM backend when /dev/kvm exists, simulated otherwise.
/// </summary>
public static class WireBenchmark
{
    private const int Vcpus = 1;
    private static readonly int[] ChannelCounts = [1, 2];

    public static void Run(MacroOptions options, TextWriter output)
    {
        ulong size = options.Sizes.Min();
        var backend = global::Tern.Kvm.Kvm.IsPresent ? MachineBackendChoice.KvmLog : MachineBackendChoice.Sim;
        // The whole RAM above the guest's own pages: 2 MiB below the size (the image and page tables sit in the first 2 MiB).
        string workload = $"fill:ws={SizeText(size - GuestLayout.LargePageBytes)}{(options.Content is { } c ? ",content=" + c : "")}";
        var table = new TextTable("channels", "total ms", "sent MiB", "wire MiB/s", "loopback MiB/s (same streams)", "wire / loopback",
            "CPU s/GiB: migration", "loopback", "loopback / migration",
            "src scan+encode s (kernel)", "src writers s (kernel)", "dst receive+apply s (kernel)", "src thr faults", "dst thr faults", "other s");
        output.WriteLine($"Guest: {workload}, {Units.Gib(size)}, {Vcpus} vCPU, backend {backend.Name}.");
        foreach (int channels in ChannelCounts)
        {
            var loopback = new Samples();
            var total = new Samples();
            var sent = new Samples();
            var wire = new Samples();
            var steps = new Dictionary<string, Samples>();
            var cpuPerGiB = new Samples();
            var loopbackCpuPerGiB = new Samples();
            for (int r = 0; r < options.Repeat; r++)
            {
                double loopbackRate;
                using (var loopbackCpu = new ThreadCpuSampler())
                {
                    long started = System.Diagnostics.Stopwatch.GetTimestamp();
                    loopbackRate = LoopbackThroughput.Measure(channels, TimeSpan.FromSeconds(1));
                    double bytes = loopbackRate * System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds;
                    double cpu = loopbackCpu.Totals(name => name.StartsWith("loopback", StringComparison.Ordinal) ? "loopback" : "other")
                        .TryGetValue("loopback", out var l) ? l.CpuSeconds : double.NaN;
                    loopbackCpuPerGiB.Add(cpu / (bytes / (1 << 30)));
                }
                loopback.Add(loopbackRate);
                var (result, roles) = MigrateOnce(backend, workload, size, channels, options.EngineLog);
                var info = result.Info;
                double seconds = info.TotalTimeMs!.Value / 1000.0;
                total.Add(info.TotalTimeMs.Value);
                sent.Add(info.Ram!.Transferred / (double)(1 << 20));
                wire.Add(info.Ram.Transferred / seconds);
                double migrationCpu = roles.Where(x => x.Key is not (Vcpu or Other or Sampler)).Sum(x => x.Value.CpuSeconds);
                cpuPerGiB.Add(migrationCpu / (info.Ram.Transferred / (double)(1 << 30)));
                foreach (var (role, sample) in roles)
                {
                    Add(steps, role + " s", sample.CpuSeconds);
                    Add(steps, role + " sys", sample.SystemSeconds);
                    Add(steps, role + " faults", sample.MinorFaults + sample.MajorFaults);
                }
                output.WriteLine($"  {channels} channel(s) run {r + 1}: {info.TotalTimeMs} ms, {info.Ram.Transferred / (double)(1 << 20):0} MiB sent, " +
                    $"{info.Ram.Transferred / seconds / (1 << 20):0} MiB/s (loopback {loopback.Median / (1 << 20):0} MiB/s); per thread: " +
                    string.Join("; ", roles.OrderBy(x => x.Key).Select(x => $"{x.Key} {x.Value.CpuSeconds:0.00} s cpu ({x.Value.SystemSeconds:0.00} in the kernel), {x.Value.MinorFaults} minflt, {x.Value.MajorFaults} majflt")));
            }
            double Step(string key) => steps.TryGetValue(key, out var s) ? s.Median : 0;
            table.Add(channels.ToString(CultureInfo.InvariantCulture), Units.Count(total.Median), Units.Count(sent.Median),
                Units.Count(wire.Median / (1 << 20)), Units.Count(loopback.Median / (1 << 20)), Units.Ratio(wire.Median / loopback.Median),
                Units.Fixed(cpuPerGiB.Median), Units.Fixed(loopbackCpuPerGiB.Median), Units.Ratio(loopbackCpuPerGiB.Median / cpuPerGiB.Median),
                Both(Step(SourceMain + " s"), Step(SourceMain + " sys")), Both(Step(SourceWriters + " s"), Step(SourceWriters + " sys")),
                Both(Step(DestinationMain + " s") + Step(DestinationChannels + " s"), Step(DestinationMain + " sys") + Step(DestinationChannels + " sys")),
                Units.Count(Step(SourceMain + " faults") + Step(SourceWriters + " faults")),
                Units.Count(Step(DestinationMain + " faults") + Step(DestinationChannels + " faults")),
                Units.Fixed(Step(Other + " s")));
        }
        output.WriteLine();
        output.WriteLine($"Fill-then-idle guest ({workload}, {Units.Gib(size)}, {backend.Name}), loopback, no bandwidth cap; medians of {options.Repeat} runs.");
        output.WriteLine("wire MiB/s = bytes sent / total time; loopback = TCP over as many streams, 1 MiB buffers, measured just before each run.");
        output.WriteLine("Per step: CPU seconds and page faults (minor + major) of the threads doing it, over the whole run (both machines live in this process).");
        output.WriteLine("CPU s/GiB: CPU time of the migration's threads (source scan+encode and writers, destination receive+apply) per GiB sent, and of the");
        output.WriteLine("loopback's sender and receiver threads per GiB pumped: on a host shared with other work, their ratio says how close to the link the");
        output.WriteLine("engine is whatever share of the cores it gets; the wall-clock ratio moves with the load.");
        output.WriteLine(table);
    }

    private const string SourceMain = "source scan+encode";
    private const string SourceWriters = "source channel writers";
    private const string DestinationMain = "destination main receive+apply";
    private const string DestinationChannels = "destination channel receive+apply";
    private const string Vcpu = "vCPUs";
    private const string Sampler = "benchmark's sampler";
    private const string Other = "other (GC, timers, machine set-up)";

    /// <summary>What a thread does in this benchmark, by its (15-character) Linux name.</summary>
    private static string RoleOf(string name) => name switch
    {
        _ when name.StartsWith(".NET Long", StringComparison.Ordinal) => SourceMain, // the source's RunAsync; the destination's is named
        _ when name.StartsWith("tern migration", StringComparison.Ordinal) => SourceWriters, // channel writers and the (idle) return path
        _ when name.StartsWith("tern incoming m", StringComparison.Ordinal) => DestinationMain,
        _ when name.StartsWith("tern incoming c", StringComparison.Ordinal) => DestinationChannels,
        _ when name.StartsWith("tern vCPU", StringComparison.Ordinal) || name.StartsWith("tern sim vCPU", StringComparison.Ordinal) => Vcpu,
        ThreadCpuSampler.SamplerName => Sampler,
        _ => Other,
    };

    private static string Both(double total, double kernel) => $"{Units.Fixed(total)} ({Units.Fixed(kernel)})";

    private static void Add(Dictionary<string, Samples> steps, string key, double value)
    {
        if (!steps.TryGetValue(key, out var s)) steps[key] = s = new Samples();
        s.Add(value);
    }

    private static (MigrationResult Result, Dictionary<string, ThreadSample> Roles) MigrateOnce(
        MachineBackendChoice backend, string workload, ulong size, int channels, Action<string>? log)
    {
        var spec = GuestWorkload.Parse(workload);
        var machine = MachineBuilder.Boot(spec, size, Vcpus, backend.Host);
        using var migration = new InProcessMigration(machine, backend.Host, log);
        var model = new WorkloadModel(GuestLayout.Compute(spec, size, Vcpus));
        ulong[] full = model.Layout.Vcpus.Select(v => v.Slice.RegionAPages).ToArray();
        machine.Resume();
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (!model.ReadCounters(machine.Memory.GetSpan(GuestAddress.Zero, (int)Math.Min(size, int.MaxValue))).SequenceEqual(full))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the guest did not fill its working set ({workload}) within 2 minutes");
            Thread.Sleep(10);
        }
        Thread.Sleep(200); // resting: only heartbeats from here on
        migration.Settings.SetParameters(new MigrationParameters { MaxBandwidth = 0 });
        if (channels > 1)
        {
            migration.Settings.SetCapability(MigrationCapability.Multifd, true);
            migration.Settings.SetParameters(new MigrationParameters { MaxBandwidth = 0, MultifdChannels = channels });
        }
        using var sampler = new ThreadCpuSampler();
        var result = migration.Run(TimeSpan.FromMinutes(3));
        if (result.Info.Channels != channels) throw new InvalidOperationException($"asked for {channels} channels, the migration used {result.Info.Channels}");
        var byName = sampler.Totals(name => name);
        var roles = new Dictionary<string, ThreadSample>();
        foreach (var (name, t) in byName)
        {
            string role = RoleOf(name);
            roles[role] = roles.TryGetValue(role, out var r)
                ? new ThreadSample(role, r.CpuSeconds + t.CpuSeconds, r.SystemSeconds + t.SystemSeconds, r.MinorFaults + t.MinorFaults, r.MajorFaults + t.MajorFaults)
                : t with { Name = role };
        }
        log?.Invoke("    other threads: " + string.Join("; ", byName.Where(x => RoleOf(x.Key) == Other).OrderByDescending(x => x.Value.CpuSeconds).Take(5)
            .Select(x => $"'{x.Key}' {x.Value.CpuSeconds:0.00} s")));
        return (result, roles);
    }

    private static string SizeText(ulong bytes) => bytes % (1UL << 20) == 0 ? $"{bytes >> 20}M" : bytes.ToString(CultureInfo.InvariantCulture);
}
