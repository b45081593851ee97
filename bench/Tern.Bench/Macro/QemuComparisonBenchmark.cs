using System.Diagnostics;
using Tern.Control.Host;
using Tern.Guest;
using Tern.Guest.Multiboot;
using Tern.Machine;
using Tern.Machine.Kvm;
using Tern.Memory;
using Tern.Memory.Dirty;

namespace Tern.Bench.Macro;

/// <summary>
/// Issue 12: the same exported guest (<c>tern guest export</c>, <c>seq:ws=512M</c>, one vCPU, 1 GiB) run under QEMU 7.2
/// with KVM and under Tern, alternately, not migrating, and its writes per second under each. Tern runs it as
/// <c>tern run</c> does: a VM host sampled once a second for the live display. A third row runs Tern with the display
/// as it was before issue 12 (KVM's dirty log on and synced every second), so the change is measured in the same run;
/// QEMU with its RAM on a shared memfd, as Tern's is, separates what the VMM costs from what the RAM's backing costs
/// (QEMU's default anonymous RAM gets transparent huge pages; a memfd does not unless shmem THP is on); and Tern with
/// <c>--huge-pages</c> when the host has 2 MiB pages reserved.
/// </summary>
public static class QemuComparisonBenchmark
{
    private const ulong Memory = 1UL << 30;
    private const string Workload = "seq:ws=512M";
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(3);

    private enum Runner { Qemu, QemuMemfd, Tern, TernHugePages, TernDirtyLogDisplay }

    private static readonly Dictionary<Runner, string> Names = new()
    {
        [Runner.Qemu] = "QEMU 7.2 -accel kvm (anonymous RAM, THP)",
        [Runner.QemuMemfd] = "QEMU 7.2, RAM on a shared memfd (as Tern's)",
        [Runner.Tern] = "Tern, tern run's display (page sampling)",
        [Runner.TernHugePages] = "Tern --huge-pages, tern run's display",
        [Runner.TernDirtyLogDisplay] = "Tern, display before issue 12 (dirty log synced 1/s)",
    };

    public static void Run(MacroOptions options, TextWriter output)
    {
        if (QemuGuestProcess.Unavailable() is { } why)
        {
            output.WriteLine($"Tern versus QEMU: skipped: {why}");
            return;
        }
        var spec = WorkloadSpec.Parse(Workload);
        byte[] kernel = MultibootExporter.Export(spec, Memory, TscFrequency.HostKhzOrFallback());
        var pool = Tern.Os.HostHugePages.TryRead();
        bool hugePages = pool is { PageBytes: 2 << 20 } p && (ulong)p.Free * p.PageBytes >= Memory;
        var runners = Enum.GetValues<Runner>().Where(r => r != Runner.TernHugePages || hugePages).ToArray();
        var samples = runners.ToDictionary(r => r, _ => new Samples());
        var perCpu = runners.ToDictionary(r => r, _ => new Samples());
        var roundRatios = new Samples();
        var roundCpuRatios = new Samples();
        for (int round = 0; round < options.Repeat; round++)
        {
            // Rotate the order, so a load that rises or falls over a round does not favour one runner.
            var order = runners.Select((r, i) => runners[(i + round) % runners.Length]).ToArray();
            var rates = new Dictionary<Runner, (double Wall, double Cpu)>();
            foreach (var runner in order) rates[runner] = Measure(runner, kernel);
            foreach (var (runner, rate) in rates)
            {
                samples[runner].Add(rate.Wall);
                perCpu[runner].Add(rate.Cpu);
            }
            roundRatios.Add(rates[Runner.Tern].Wall / rates[Runner.Qemu].Wall);
            roundCpuRatios.Add(rates[Runner.Tern].Cpu / rates[Runner.Qemu].Cpu);
            output.WriteLine($"  round {round + 1}: " + string.Join(", ", runners.Select(r => $"{r} {Units.Count(rates[r].Wall)} ({Units.Count(rates[r].Cpu)} per CPU-s)")) + " writes/s");
        }

        var qemu = samples[Runner.Qemu].Median;
        var qemuCpu = perCpu[Runner.Qemu].Median;
        var table = new TextTable("runs the guest", "writes/s (median)", "min", "max", "/ QEMU", "writes per CPU-second", "/ QEMU");
        foreach (var runner in runners)
        {
            var s = samples[runner];
            var c = perCpu[runner];
            table.Add(Names[runner], Units.Count(s.Median), Units.Count(s.Min), Units.Count(s.Max), Units.Ratio(s.Median / qemu),
                Units.Count(c.Median), Units.Ratio(c.Median / qemuCpu));
        }
        output.WriteLine();
        output.WriteLine($"Tern versus QEMU on the same exported guest: {Workload}, 1 vCPU, {Units.Gib(Memory)}, not migrating; writes/s over a " +
            $"{Window.TotalSeconds:0} s window after two passes over the working set; {options.Repeat} rounds, order rotated each round.");
        output.WriteLine($"  shmem THP (/sys/kernel/mm/transparent_hugepage/shmem_enabled): {ShmemThp()}; Tern's RAM (a memfd) gets huge pages only at advise, within_size or always.");
        if (!hugePages) output.WriteLine($"  Tern --huge-pages: skipped: reserve {Memory >> 21} free 2 MiB huge pages first (echo N > /proc/sys/vm/nr_hugepages).");
        output.WriteLine(table);
        output.WriteLine($"Tern/QEMU per round: median {Units.Ratio(roundRatios.Median)}, range {Units.Ratio(roundRatios.Min)} to {Units.Ratio(roundRatios.Max)}; " +
            $"per CPU-second (the VMM process's CPU time, which other load on the host does not shrink): median {Units.Ratio(roundCpuRatios.Median)}, " +
            $"range {Units.Ratio(roundCpuRatios.Min)} to {Units.Ratio(roundCpuRatios.Max)}.");
    }

    private static string ShmemThp()
    {
        try
        {
            return File.ReadAllText("/sys/kernel/mm/transparent_hugepage/shmem_enabled").Trim();
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    private static (double Wall, double Cpu) Measure(Runner runner, byte[] kernel)
    {
        var image = MultibootImage.Load(kernel, Memory);
        var layout = image.Layout ?? throw new InvalidOperationException("the exported guest has no Tern layout");
        var counter = layout.Vcpus[0].ControlPage.Add(ControlPage.Counter);
        ulong passPages = layout.WorkingSet.Length / PageSize.Bytes;
        if (runner is Runner.Qemu or Runner.QemuMemfd)
        {
            using var qemu = new QemuGuestProcess(kernel, Memory, memfdRam: runner == Runner.QemuMemfd);
            return WritesPerSecond(() => qemu.ReadWord(counter.Value), () => qemu.CpuTime, passPages);
        }

        bool huge = runner == Runner.TernHugePages;
        var host = new MachineHostOptions { Backend = MachineBackend.Kvm, HugePages = huge };
        var machine = KvmMachine.Create(new KvmMachineOptions(Memory, 1) { Workload = image.Workload!.ToString(), HugePages = huge });
        machine.Load(GuestBoot.ToBootImage(image));
        using var vm = new VmHost(machine, host);
        vm.Start();
        using var stop = new CancellationTokenSource();
        var display = Task.Run(() => Display(vm, runner == Runner.TernDirtyLogDisplay, stop.Token));
        try
        {
            var self = Process.GetCurrentProcess();
            return WritesPerSecond(() => BitConverter.ToUInt64(machine.Memory.GetSpan(counter, 8)), () =>
            {
                self.Refresh();
                return self.TotalProcessorTime;
            }, passPages);
        }
        finally
        {
            stop.Cancel();
            display.Wait();
        }
    }

    /// <summary>What tern run's display does once a second; optionally also what it did before issue 12.</summary>
    private static void Display(VmHost vm, bool syncDirtyLog, CancellationToken stop)
    {
        var tracker = vm.Machine!.DirtyTracker;
        var bitmap = new DirtyBitmap(vm.Machine.Memory.PageCount);
        do
        {
            vm.Sample();
            if (!syncDirtyLog) continue;
            if (!tracker.IsTracking) tracker.Start();
            else
            {
                bitmap.ClearAll();
                tracker.Sync(bitmap);
            }
        }
        while (!stop.WaitHandle.WaitOne(TimeSpan.FromSeconds(1)));
        if (syncDirtyLog) tracker.Stop();
    }

    /// <summary>
    /// Waits for two passes over the working set (the first allocates its pages), then measures a window: writes per
    /// wall second, and per second of the VMM process's CPU time.
    /// </summary>
    private static (double Wall, double Cpu) WritesPerSecond(Func<ulong> readCounter, Func<TimeSpan> cpuTime, ulong passPages)
    {
        var warm = Stopwatch.StartNew();
        while (readCounter() < 2 * passPages)
        {
            if (warm.Elapsed > TimeSpan.FromSeconds(120)) throw new TimeoutException("the guest did not finish two passes in 120 s");
            Thread.Sleep(50);
        }
        ulong before = readCounter();
        var cpuBefore = cpuTime();
        var clock = Stopwatch.StartNew();
        Thread.Sleep(Window);
        ulong after = readCounter();
        double cpu = (cpuTime() - cpuBefore).TotalSeconds;
        double wall = clock.Elapsed.TotalSeconds;
        return ((after - before) / wall, (after - before) / Math.Max(cpu, 1e-3));
    }
}
