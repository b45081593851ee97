using System.CommandLine;
using System.Runtime.InteropServices;
using Tern.Cli.Display;
using Tern.Control.Host;
using Tern.Control.Qmp;
using Tern.Guest;
using Tern.Machine;
using Tern.Machine.Kvm;
using Tern.Memory;
using Tern.Migration.Engine;

namespace Tern.Cli.Commands;

/// <summary>
/// <c>tern run</c>: boots a VM running a built-in workload (or waits for one to migrate in) and shows, live, its
/// heartbeat rate, progress and dirty rate. With <c>--qmp unix:PATH</c> it serves QMP, so it can be migrated.
/// </summary>
public static class RunCommand
{
    public static Command Build()
    {
        var memory = new Option<string?>("--memory", "-m")
        {
            Description = $"Guest RAM, e.g. 512M or 1G (a multiple of 2 MiB; default {DefaultMemory}). With --incoming: the most RAM " +
                          "an arriving VM may have (default: the host's memory)",
            HelpName = "SIZE",
        };
        var vcpus = new Option<int?>("--vcpus")
        {
            Description = $"Number of vCPUs (1-64; default {DefaultVcpus}). With --incoming: the most vCPUs an arriving VM may have (default: 64)",
            HelpName = "N",
        };
        var workload = new Option<string>("--workload", "-w")
        {
            Description = "What the guest does: idle | compute | stride | seq:ws=SIZE | fill:ws=SIZE | random:ws=SIZE | hotcold:ws=SIZE,hot=SIZE,p=0.9; " +
                "the memory workloads take rate=MiB/s, seed=N and content=mixed (pages that compress like real memory); " +
                "one per vCPU with ';' (e.g. \"seq:ws=256M;compute\" for --vcpus 2)",
            HelpName = "SPEC",
            DefaultValueFactory = _ => "idle",
        };
        var backend = new Option<MachineBackend>("--backend")
        {
            Description = "kvm, sim (a simulated guest in this process), or auto (kvm when /dev/kvm exists)",
            DefaultValueFactory = _ => MachineBackend.Auto,
        };
        var dirty = new Option<DirtyTrackingKind>("--dirty-tracking")
        {
            Description = "KVM dirty-page tracking: log (bitmap) or ring (per-vCPU rings)",
            DefaultValueFactory = _ => DirtyTrackingKind.Log,
        };
        var hugePages = new Option<bool>("--huge-pages") { Description = "Back guest RAM with 2 MiB huge pages (reserve them first)" };
        var qmp = new Option<string?>("--qmp") { Description = "Serve QMP on a unix socket: unix:PATH", HelpName = "unix:PATH" };
        var incoming = new Option<string?>("--incoming")
        {
            Description = "Wait for a VM to migrate in: tcp:HOST:PORT, unix:PATH (a unix socket on this host), or defer (then start with QMP migrate-incoming)",
            HelpName = "URI",
        };
        var serial = new Option<string>("--serial")
        {
            Description = "Where the guest's serial port goes: stdout, none, or a file path",
            HelpName = "TARGET",
            DefaultValueFactory = _ => "stdout",
        };
        var memoryBudget = new Option<string?>("--memory-budget")
        {
            Description = "Host memory migration caches may use, e.g. 2G (default: a quarter of available host memory)",
            HelpName = "SIZE",
        };
        var duration = new Option<double?>("--duration") { Description = "Stop after this many seconds (default: run until Ctrl-C or QMP quit)", HelpName = "S" };
        var display = new Option<DisplayMode>("--display")
        {
            Description = "live (a table that updates), plain (a line a second), or none",
            DefaultValueFactory = _ => DisplayMode.Auto,
        };

        var command = new Command("run", "Run a VM with a built-in workload and show it live; with --incoming, wait for one to migrate in.")
        {
            memory, vcpus, workload, backend, dirty, hugePages, qmp, incoming, serial, memoryBudget, duration, display,
        };
        command.SetAction(parse =>
        {
            var options = new RunOptions
            {
                Memory = parse.GetValue(memory),
                Vcpus = parse.GetValue(vcpus),
                Workload = parse.GetValue(workload)!,
                Host = new MachineHostOptions
                {
                    Backend = parse.GetValue(backend),
                    DirtyTracking = parse.GetValue(dirty),
                    HugePages = parse.GetValue(hugePages),
                },
                Qmp = parse.GetValue(qmp),
                Incoming = parse.GetValue(incoming),
                Serial = parse.GetValue(serial)!,
                Duration = parse.GetValue(duration),
                MemoryBudget = parse.GetValue(memoryBudget),
                Display = parse.GetValue(display),
            };
            return Run(options, parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error);
        });
        return command;
    }

    private sealed record RunOptions
    {
        /// <summary>As typed; null when not given (a booted VM then gets the default, an incoming one the host's memory).</summary>
        public string? Memory { get; init; }
        public int? Vcpus { get; init; }
        public required string Workload { get; init; }
        public required MachineHostOptions Host { get; init; }
        public string? Qmp { get; init; }
        public string? Incoming { get; init; }
        public required string Serial { get; init; }
        public double? Duration { get; init; }
        public string? MemoryBudget { get; init; }
        public DisplayMode Display { get; init; }
    }

    private const string DefaultMemory = "1G";
    private const int DefaultVcpus = 1;

    private static int Run(RunOptions o, TextWriter output, TextWriter error)
    {
        ulong memory = 0;
        if ((o.Memory is not null || o.Incoming is null) && !ByteSize.TryParse(o.Memory ?? DefaultMemory, out memory))
        {
            error.WriteLine($"tern run: --memory '{o.Memory}' is not a size (examples: 512M, 1G)");
            return 2;
        }
        int vcpus = o.Vcpus ?? DefaultVcpus;
        if (vcpus is < 1 or > GuestBuildOptions.MaxVcpus)
        {
            error.WriteLine($"tern run: --vcpus {vcpus}: Tern runs 1 to {GuestBuildOptions.MaxVcpus} vCPUs");
            return 2;
        }
        if (o.Incoming is not null && o.Memory is not null && memory == 0)
        {
            error.WriteLine("tern run: --memory 0: an incoming VM needs some RAM");
            return 2;
        }
        if (!GuestWorkload.TryParse(o.Workload, out var spec, out var specError))
        {
            error.WriteLine($"tern run: --workload: {specError}");
            return 2;
        }
        ulong budget = 0;
        if (o.MemoryBudget is { } budgetText && !ByteSize.TryParse(budgetText, out budget))
        {
            error.WriteLine($"tern run: --memory-budget '{budgetText}' is not a size (examples: 512M, 2G)");
            return 2;
        }
        using var serial = SerialTarget.Open(o.Serial, output);
        var host = o.Host with { SerialOutput = serial };
        VmHost vm;
        try
        {
            // A destination builds what the source describes, but never more than it was started with.
            vm = o.Incoming is null
                ? new VmHost(MachineBuilder.Boot(spec!, memory, vcpus, host), host)
                : new VmHost(host, new DestinationLimits { MemoryBytes = o.Memory is null ? null : memory, Vcpus = o.Vcpus });
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or GuestConfigurationException
                                      or Tern.Kvm.KvmUnavailableException or Tern.Os.OsException)
        {
            error.WriteLine($"tern run: {e.Message}");
            return 1;
        }

        using (vm)
        {
            vm.Log += line => error.WriteLine($"tern: {line}");
            if (budget != 0) vm.Settings.SetParameters(vm.Settings.Parameters with { MemoryBudget = budget });
            QmpServer? server = null;
            try
            {
                if (o.Qmp is not null)
                {
                    server = new QmpServer(QmpAddress.ParseUnixPath(o.Qmp), vm);
                    server.Start();
                }
                if (o.Incoming is null) vm.Start();
                else if (o.Incoming != "defer") vm.StartIncoming(o.Incoming);
            }
            catch (Exception e) when (e is Tern.Control.VmControlException or IOException or ArgumentException or FormatException)
            {
                error.WriteLine($"tern run: {e.Message}");
                server?.DisposeAsync().AsTask().GetAwaiter().GetResult();
                return 1;
            }

            output.WriteLine(o.Incoming is null
                ? $"tern: running {spec} on {vcpus} vCPU(s) with {ByteSize.Format(memory)} ({host.Resolved.ToString().ToLowerInvariant()}){(o.Qmp is null ? "" : $", QMP at {o.Qmp}")}"
                : $"tern: waiting for an incoming migration ({(o.Incoming == "defer" ? "deferred: use QMP migrate-incoming" : o.Incoming)}){(o.Qmp is null ? "" : $", QMP at {o.Qmp}")}");

            using var stop = new CancellationTokenSource();
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
            if (o.Duration is { } seconds) stop.CancelAfter(TimeSpan.FromSeconds(seconds));
            vm.QuitRequested.ContinueWith(_ => stop.Cancel(), TaskScheduler.Default);

            RunDisplay.Show(vm, o.Display, output, stop.Token);

            server?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            var last = vm.Sample(measureDirtyRate: false);
            string writes = last.Progress is { } counters ? $", {counters.Aggregate(0UL, (sum, c) => sum + c)} writes" : "";
            output.WriteLine($"tern: stopped ({last.State.ToString().ToLowerInvariant()}, {last.Heartbeats} heartbeats{writes})");
        }
        return 0;
    }
}
