using System.Diagnostics;
using Tern.Memory.Dirty;

namespace Tern.Bench.Macro;

/// <summary>
/// Issue 2: how long one dirty-log sync takes on 1 GiB and 4 GiB guests with each backend: while a guest dirties
/// memory (seq over 256 MiB on 2 vCPUs, synced every 100 ms as a migration pass might), and on a paused guest where
/// nothing is dirty (the fixed cost of scanning the log).
/// </summary>
public static class DirtySyncBenchmark
{
    private const int Vcpus = 2;
    private const string Workload = "seq:ws=256M";
    private const int Syncs = 10;

    public static void Run(MacroOptions options, IReadOnlyList<MachineBackendChoice> backends, TextWriter output)
    {
        var table = new TextTable("backend", "RAM", "sync µs (running)", "dirty pages / sync", "ns / dirty page", "sync µs (nothing dirty)");
        foreach (var backend in backends)
        {
            foreach (ulong size in options.Sizes)
            {
                if (backend.Unavailable is { } why)
                {
                    output.WriteLine($"  {backend.Name}, {Units.Gib(size)}: skipped: {why}");
                    table.Add(backend.Name, Units.Gib(size), $"skipped: {why}", "-", "-", "-");
                    continue;
                }
                var running = new Samples();
                var pages = new Samples();
                var quiet = new Samples();
                for (int r = 0; r < options.Repeat; r++) MeasureOnce(backend, size, running, pages, quiet);
                table.Add(backend.Name, Units.Gib(size), Units.Fixed(running.Median, 0), Units.Count(pages.Median),
                    Units.Fixed(running.Median * 1000 / Math.Max(pages.Median, 1), 1), Units.Fixed(quiet.Median, 0));
                output.WriteLine($"  {backend.Name}, {Units.Gib(size)}: running sync median {running.Median:0} µs (max {running.Max:0}), quiet {quiet.Median:0} µs");
            }
        }
        output.WriteLine();
        output.WriteLine($"Dirty-log sync: guest running {Workload} on {Vcpus} vCPUs, {Syncs} syncs 100 ms apart per run; medians over {options.Repeat} runs.");
        output.WriteLine(table);
    }

    private static void MeasureOnce(MachineBackendChoice backend, ulong size, Samples running, Samples pages, Samples quiet)
    {
        using var guest = new LiveGuest(backend, Workload, size, Vcpus);
        var machine = guest.Machine;
        var tracker = machine.DirtyTracker;
        var bitmap = new DirtyBitmap(machine.Memory.PageCount);
        machine.Resume();
        Thread.Sleep(300);
        tracker.Start();
        for (int i = 0; i < Syncs; i++)
        {
            Thread.Sleep(100);
            bitmap.ClearAll();
            var result = tracker.Sync(bitmap);
            running.Add(result.Duration.TotalMicroseconds);
            pages.Add(result.DirtyPages);
        }
        machine.Pause();
        tracker.Sync(bitmap); // what the guest wrote before it stopped
        for (int i = 0; i < Syncs; i++)
        {
            bitmap.ClearAll();
            long started = Stopwatch.GetTimestamp();
            tracker.Sync(bitmap);
            quiet.Add(Stopwatch.GetElapsedTime(started).TotalMicroseconds);
        }
        tracker.Stop();
    }
}
