using System.Diagnostics;

namespace Tern.Bench.Macro;

/// <summary>
/// Issue 2: pause-all latency, from asking every vCPU to stop until none executes guest code, on a guest that is
/// busy dirtying memory (seq over 64 MiB on 2 vCPUs): what the switchover pays before it can copy the last pages.
/// </summary>
public static class PauseLatencyBenchmark
{
    private const ulong Memory = 1UL << 30;
    private const int Vcpus = 2;
    private const string Workload = "seq:ws=64M";
    private const int Pauses = 20;

    public static void Run(MacroOptions options, IReadOnlyList<MachineBackendChoice> backends, TextWriter output)
    {
        var table = new TextTable("backend", "pauses", "median ms", "p90 ms", "max ms");
        foreach (var backend in backends)
        {
            if (backend.Unavailable is { } why)
            {
                output.WriteLine($"  {backend.Name}: skipped: {why}");
                table.Add(backend.Name, $"skipped: {why}", "-", "-", "-");
                continue;
            }
            var latency = new Samples();
            for (int r = 0; r < options.Repeat; r++)
            {
                using var guest = new LiveGuest(backend, Workload, Memory, Vcpus);
                for (int i = 0; i < Pauses; i++)
                {
                    guest.Machine.Resume();
                    Thread.Sleep(20);
                    long started = Stopwatch.GetTimestamp();
                    guest.Machine.Pause();
                    latency.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
            }
            table.Add(backend.Name, Units.Count(latency.Count), Units.Fixed(latency.Median, 3), Units.Fixed(latency.Percentile(0.9), 3), Units.Fixed(latency.Max, 3));
        }
        output.WriteLine();
        output.WriteLine($"Pause-all latency: {Units.Gib(Memory)} guest running {Workload} on {Vcpus} vCPUs, resumed for 20 ms before each pause; {Pauses} pauses x {options.Repeat} runs.");
        output.WriteLine(table);
    }
}
