namespace Tern.Bench.Macro;

/// <summary>
/// Issue 2: how fast each built-in workload dirties memory, as the dirty log sees it (distinct pages per one-second
/// sync window) and as the guest counts its own writes. A window cannot report more distinct pages than the working
/// set holds, so a fast guest on a small working set shows the working set's size per second.
/// </summary>
public static class DirtyRateBenchmark
{
    private const ulong Memory = 1UL << 30;
    private const int Vcpus = 2;
    private const int Windows = 3;
    private static readonly string[] Workloads = ["idle", "stride", "seq:ws=256M", "random:ws=256M", "hotcold:ws=256M,hot=32M,p=0.9"];

    public static void Run(MacroOptions options, IReadOnlyList<MachineBackendChoice> backends, TextWriter output)
    {
        var table = new TextTable("backend", "workload", "dirty MiB/s (log)", "dirty pages/s", "guest progress /s");
        foreach (var backend in backends)
        {
            foreach (string workload in Workloads)
            {
                if (backend.Unavailable is { } why)
                {
                    table.Add(backend.Name, workload, $"skipped: {why}", "-", "-");
                    continue;
                }
                var pagesPerSecond = new Samples();
                var progressPerSecond = new Samples();
                for (int r = 0; r < options.Repeat; r++) MeasureOnce(backend, workload, pagesPerSecond, progressPerSecond);
                table.Add(backend.Name, workload, Units.Fixed(pagesPerSecond.Median * 4096 / (1 << 20), 1), Units.Count(pagesPerSecond.Median), Units.Count(progressPerSecond.Median));
            }
            if (backend.Unavailable is { } reason) output.WriteLine($"  {backend.Name}: skipped: {reason}");
        }
        output.WriteLine();
        output.WriteLine($"Guest dirtying rate: {Units.Gib(Memory)} guest, {Vcpus} vCPUs, {Windows} one-second windows per run after a 300 ms warm-up; medians over {options.Repeat} runs.");
        output.WriteLine("Progress: the workload's own counters summed over vCPUs (writes; stride: increments; idle: timer ticks).");
        output.WriteLine(table);
    }

    private static void MeasureOnce(MachineBackendChoice backend, string workload, Samples pagesPerSecond, Samples progressPerSecond)
    {
        using var guest = new LiveGuest(backend, workload, Memory, Vcpus);
        var machine = guest.Machine;
        var tracker = machine.DirtyTracker;
        var bitmap = new Tern.Memory.Dirty.DirtyBitmap(machine.Memory.PageCount);
        machine.Resume();
        Thread.Sleep(300);
        tracker.Start();
        var window = System.Diagnostics.Stopwatch.StartNew();
        ulong progress = guest.Progress();
        for (int i = 0; i < Windows; i++)
        {
            Thread.Sleep(1000);
            bitmap.ClearAll();
            var result = tracker.Sync(bitmap);
            ulong now = guest.Progress();
            double seconds = window.Elapsed.TotalSeconds;
            window.Restart();
            pagesPerSecond.Add(result.DirtyPages / seconds);
            progressPerSecond.Add((now - progress) / seconds);
            progress = now;
        }
        tracker.Stop();
        machine.Pause();
    }
}
