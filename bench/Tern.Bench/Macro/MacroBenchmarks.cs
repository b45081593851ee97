namespace Tern.Bench.Macro;

/// <summary>
/// The macro benchmarks: whole migrations between two in-process endpoints over loopback TCP, and live guests'
/// dirty tracking. Each measurement takes seconds, so each is repeated a few times and reported by its median,
/// next to a baseline measured in the same run.
/// </summary>
public static class MacroBenchmarks
{
    private const string Usage = """
        Macro benchmarks (plain text output, medians of --repeat runs):
          migration [--only idle|channels|dirtying]   whole migrations over loopback (sim backend), next to loopback TCP
          machine   [--only sync|pause|rate]          dirty-log sync, pause-all latency and dirtying rate, every backend
          kvm       [--only sync|pause|rate]          the same, KVM backends only (skipped when /dev/kvm is absent)
          xbzrle    [--only encode|threads]           XBZRLE encoding in interleaved rounds, as ratios to the read bound; the engine's encoding on 1 and 2 threads
          convergence                                 a guest that outruns a 100 MiB/s link under each convergence method (KVM)
          qemu                                        the same exported guest under QEMU and under Tern, not migrating (issue 12)
          versus [--only idle|stride|stride-xbzrle|seq-xbzrle|random-xbzrle|fill]
                                                      the same exported guest migrated by QEMU 7.2 and by Tern, alternately: total, downtime, guest stop, guest work (issue 12)
          wire [--content mixed]                      a filled, resting guest migrated at link speed: 1 and 2 channels next to loopback, CPU and faults per step (issue 12)
          postcopy [--only switch|faults|gib]         issue 11 on KVM: switched to post-copy after pass 1, Tern and QEMU 7.2 alternating; fault latency next to a loopback round trip; a GiB after the switch next to loopback TCP
          switchover [--only idle|stride|XBZRLE|seq]  the switchover step by step (x-switchover) on KVM, idle and dirtying guests (issue 12)
          macro-help                                  this text
        Options: --repeat N (default 3; rounds for xbzrle, at least 20), --sizes 1G,4G (guest sizes where a table has them), --verbose (engine log).
        Any other arguments run the BenchmarkDotNet suites (e.g. --filter '*Xbzrle*' --job short).
        """;

    private static readonly string[] Modes = ["migration", "machine", "kvm", "xbzrle", "convergence", "qemu", "wire", "versus", "postcopy", "switchover"];

    public static bool IsMacro(string[] args) => args.Length > 0 && (Modes.Contains(args[0]) || args[0] == "macro-help");

    public static int Run(string[] args)
    {
        MacroOptions options;
        try
        {
            options = MacroOptions.Parse(args[1..]);
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            Console.Error.WriteLine(e.Message);
            Console.Error.WriteLine(Usage);
            return 2;
        }
        var output = Console.Out;
        output.WriteLine($"Tern macro benchmarks: {args[0]}; {Environment.ProcessorCount} CPUs, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        output.WriteLine($"Load average at start: {LoadAverage()}");
        try
        {
            return RunMode(args[0], options, output);
        }
        finally
        {
            // A shared host's load moves every number here: say how busy it was.
            output.WriteLine($"Load average at end: {LoadAverage()} ({DateTime.UtcNow:HH:mm} UTC)");
        }
    }

    internal static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) + " (1, 5, 15 min)";
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    private static int RunMode(string mode, MacroOptions options, TextWriter output)
    {
        switch (mode)
        {
            case "migration":
                if (options.Runs("idle")) IdleMigrationBenchmark.Run(options, output);
                if (options.Runs("channels")) ChannelMigrationBenchmark.Run(options, output);
                if (options.Runs("dirtying")) DirtyingMigrationBenchmark.Run(options, output);
                return 0;
            case "machine":
                RunMachine(options, [MachineBackendChoice.Sim, MachineBackendChoice.KvmLog, MachineBackendChoice.KvmRing], output);
                return 0;
            case "kvm":
                RunMachine(options, [MachineBackendChoice.KvmLog, MachineBackendChoice.KvmRing], output);
                return 0;
            case "convergence":
                ConvergenceMethodsBenchmark.Run(options, output);
                return 0;
            case "xbzrle":
                if (options.Runs("encode")) XbzrleInterleavedBenchmark.Run(options, output);
                if (options.Runs("threads")) XbzrleThreadsBenchmark.Run(options, output);
                return 0;
            case "qemu":
                QemuComparisonBenchmark.Run(options, output);
                return 0;
            case "wire":
                WireBenchmark.Run(options, output);
                return 0;
            case "versus":
                VersusBenchmark.Run(options, output);
                return 0;
            case "postcopy":
                PostcopyBenchmark.Run(options, output);
                return 0;
            case "switchover":
                SwitchoverBenchmark.Run(options, output);
                return 0;
            default:
                output.WriteLine(Usage);
                return 0;
        }
    }

    private static void RunMachine(MacroOptions options, MachineBackendChoice[] backends, TextWriter output)
    {
        if (!global::Tern.Kvm.Kvm.IsPresent) output.WriteLine("KVM backends: skipped: /dev/kvm absent on this host (no real VM can run here).");
        if (options.Runs("sync")) DirtySyncBenchmark.Run(options, backends, output);
        if (options.Runs("pause")) PauseLatencyBenchmark.Run(options, backends, output);
        if (options.Runs("rate")) DirtyRateBenchmark.Run(options, backends, output);
    }
}
