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
/// as it was before issue 12 (KVM's dirty log on and synced every second), so the change is measured in the same run.
/// </summary>
public static class QemuComparisonBenchmark
{
    private const ulong Memory = 1UL << 30;
    private const string Workload = "seq:ws=512M";
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(3);

    private enum Runner { Qemu, Tern, TernDirtyLogDisplay }

    public static void Run(MacroOptions options, TextWriter output)
    {
        if (QemuGuestProcess.Unavailable() is { } why)
        {
            output.WriteLine($"Tern versus QEMU: skipped: {why}");
            return;
        }
        var spec = WorkloadSpec.Parse(Workload);
        byte[] kernel = MultibootExporter.Export(spec, Memory, TscFrequency.HostKhzOrFallback());
        var samples = Enum.GetValues<Runner>().ToDictionary(r => r, _ => new Samples());
        var roundRatios = new Samples();
        for (int round = 0; round < options.Repeat; round++)
        {
            // Alternate which runs first, so a load that rises or falls over a round does not favour one side.
            var order = round % 2 == 0 ? new[] { Runner.Qemu, Runner.Tern } : [Runner.Tern, Runner.Qemu];
            var rates = new Dictionary<Runner, double>();
            foreach (var runner in order) rates[runner] = Measure(runner, kernel);
            rates[Runner.TernDirtyLogDisplay] = Measure(Runner.TernDirtyLogDisplay, kernel);
            foreach (var (runner, rate) in rates) samples[runner].Add(rate);
            roundRatios.Add(rates[Runner.Tern] / rates[Runner.Qemu]);
            output.WriteLine($"  round {round + 1}: QEMU {Units.Count(rates[Runner.Qemu])}, Tern {Units.Count(rates[Runner.Tern])}, " +
                $"Tern with the old display {Units.Count(rates[Runner.TernDirtyLogDisplay])} writes/s");
        }

        var qemu = samples[Runner.Qemu].Median;
        var table = new TextTable("runs the guest", "writes/s (median)", "min", "max", "/ QEMU");
        table.Add("QEMU 7.2 -accel kvm", Units.Count(qemu), Units.Count(samples[Runner.Qemu].Min), Units.Count(samples[Runner.Qemu].Max), Units.Ratio(1));
        foreach (var (runner, name) in new[] { (Runner.Tern, "Tern, tern run's display (page sampling)"), (Runner.TernDirtyLogDisplay, "Tern, display before issue 12 (dirty log synced 1/s)") })
        {
            var s = samples[runner];
            table.Add(name, Units.Count(s.Median), Units.Count(s.Min), Units.Count(s.Max), Units.Ratio(s.Median / qemu));
        }
        output.WriteLine();
        output.WriteLine($"Tern versus QEMU on the same exported guest: {Workload}, 1 vCPU, {Units.Gib(Memory)}, not migrating; writes/s over a " +
            $"{Window.TotalSeconds:0} s window after two passes over the working set; {options.Repeat} alternating rounds.");
        output.WriteLine(table);
        output.WriteLine($"Tern/QEMU per round: median {Units.Ratio(roundRatios.Median)}, range {Units.Ratio(roundRatios.Min)} to {Units.Ratio(roundRatios.Max)}.");
    }

    private static double Measure(Runner runner, byte[] kernel)
    {
        var image = MultibootImage.Load(kernel, Memory);
        var layout = image.Layout ?? throw new InvalidOperationException("the exported guest has no Tern layout");
        var counter = layout.Vcpus[0].ControlPage.Add(ControlPage.Counter);
        ulong passPages = layout.WorkingSet.Length / PageSize.Bytes;
        if (runner == Runner.Qemu)
        {
            using var qemu = new QemuGuestProcess(kernel, Memory);
            return WritesPerSecond(() => qemu.ReadWord(counter.Value), passPages);
        }

        var host = new MachineHostOptions { Backend = MachineBackend.Kvm };
        var machine = KvmMachine.Create(new KvmMachineOptions(Memory, 1) { Workload = image.Workload!.ToString() });
        machine.Load(GuestBoot.ToBootImage(image));
        using var vm = new VmHost(machine, host);
        vm.Start();
        using var stop = new CancellationTokenSource();
        var display = Task.Run(() => Display(vm, runner == Runner.TernDirtyLogDisplay, stop.Token));
        try
        {
            return WritesPerSecond(() => BitConverter.ToUInt64(machine.Memory.GetSpan(counter, 8)), passPages);
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

    /// <summary>Waits for two passes over the working set (the first allocates its pages), then measures a window.</summary>
    private static double WritesPerSecond(Func<ulong> readCounter, ulong passPages)
    {
        var warm = Stopwatch.StartNew();
        while (readCounter() < 2 * passPages)
        {
            if (warm.Elapsed > TimeSpan.FromSeconds(120)) throw new TimeoutException("the guest did not finish two passes in 120 s");
            Thread.Sleep(50);
        }
        ulong before = readCounter();
        var clock = Stopwatch.StartNew();
        Thread.Sleep(Window);
        ulong after = readCounter();
        return (after - before) / clock.Elapsed.TotalSeconds;
    }
}
