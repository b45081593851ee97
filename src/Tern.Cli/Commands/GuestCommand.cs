using System.CommandLine;
using Tern.Guest;
using Tern.Guest.Multiboot;
using Tern.Memory;

namespace Tern.Cli.Commands;

/// <summary>`tern guest`: Tern's built-in guest workloads, exported for QEMU or described.</summary>
public static class GuestCommand
{
    private const string WorkloadHelp =
        "The workload: idle | compute | stride | seq:ws=SIZE | fill:ws=SIZE | random:ws=SIZE | hotcold:ws=SIZE,hot=SIZE[,p=0.9]; " +
        "the memory workloads also take rate=MiB/s, seed=N and content=mixed (example: random:ws=64M,rate=200); " +
        "one per vCPU with ';' (example: seq:ws=64M;compute with --vcpus 2).";

    public static Command Build()
    {
        var guest = new Command("guest", "Tern's built-in guest workloads: generated 64-bit guests that dirty memory in known patterns.");
        guest.Add(BuildExport());
        guest.Add(BuildLayout());
        return guest;
    }

    private static Command BuildExport()
    {
        var workload = new Option<string>("--workload", "-w") { Description = WorkloadHelp, Required = true };
        var vcpus = new Option<int>("--vcpus")
        {
            Description = "vCPUs (only 1: the exported image has no INIT-SIPI AP start-up; Tern's own VMM runs more).",
            DefaultValueFactory = _ => 1,
        };
        var memory = new Option<string>("--memory", "-m")
        {
            Description = "RAM the image is built for; boot QEMU with at least this -m (at most 2G).",
            DefaultValueFactory = _ => "256M",
        };
        var tscKhz = new Option<ulong?>("--tsc-khz")
        {
            Description = $"Guest TSC frequency in kHz (times the 1 ms heartbeat and the rate cap). Default: /proc/cpuinfo \"cpu MHz\", else {TscFrequency.FallbackKhz}.",
        };
        var output = new Option<FileInfo>("--output", "-o") { Description = "Where to write the 32-bit multiboot ELF.", Required = true };
        var command = new Command("export",
            "Write a workload as a multiboot kernel that QEMU boots with -kernel, for running it outside Tern.\n" +
            "Example: tern guest export -w seq:ws=64M -o guest.elf && qemu-system-x86_64 -accel kvm -cpu host -m 256M " +
            $"-kernel guest.elf -display none -serial stdio -device isa-debugcon,iobase=0x{GuestPorts.Heartbeat:x},chardev=hb -chardev file,id=hb,path=hb.log")
        {
            workload, vcpus, memory, tscKhz, output,
        };
        command.SetAction(parse =>
        {
            try
            {
                var spec = GuestWorkload.Parse(parse.GetRequiredValue(workload));
                int n = parse.GetValue(vcpus);
                if (n != 1)
                    throw new GuestConfigurationException(
                        $"--vcpus {n}: the exported image boots one vCPU; starting application processors needs INIT-SIPI and a real-mode trampoline, which it does not have. Run multi-vCPU guests in Tern's own VMM.");
                ulong ram = ByteSize.Parse(parse.GetValue(memory)!, "--memory");
                ulong khz = parse.GetValue(tscKhz) ?? TscFrequency.HostKhzOrFallback();
                byte[] file = MultibootExporter.Export(spec, ram, khz);
                var path = parse.GetRequiredValue(output);
                File.WriteAllBytes(path.FullName, file);
                parse.InvocationConfiguration.Output.WriteLine(
                    $"wrote {path.Name} ({ByteSize.Format((ulong)file.Length)}): {spec}, 1 vCPU, built for {ByteSize.Format(ram)} of RAM, TSC {khz} kHz; " +
                    $"heartbeats on port 0x{GuestPorts.Heartbeat:x}, panics on 0x{GuestPorts.Panic:x}, banner on COM1");
                return 0;
            }
            catch (Exception e) when (e is FormatException or GuestConfigurationException or IOException or UnauthorizedAccessException)
            {
                parse.InvocationConfiguration.Error.WriteLine($"tern guest export: {e.Message}");
                return 2;
            }
        });
        return command;
    }

    private static Command BuildLayout()
    {
        var workload = new Option<string>("--workload", "-w") { Description = WorkloadHelp, Required = true };
        var vcpus = new Option<int>("--vcpus") { Description = "vCPUs.", DefaultValueFactory = _ => 1 };
        var memory = new Option<string>("--memory", "-m") { Description = "Guest RAM.", DefaultValueFactory = _ => "256M" };
        var command = new Command("layout", "Print where a guest's tables, code, control pages and working set live in guest-physical memory.")
        {
            workload, vcpus, memory,
        };
        command.SetAction(parse =>
        {
            var o = parse.InvocationConfiguration.Output;
            try
            {
                var spec = GuestWorkload.Parse(parse.GetRequiredValue(workload));
                var layout = GuestLayout.Compute(spec, ByteSize.Parse(parse.GetValue(memory)!, "--memory"), parse.GetValue(vcpus));
                o.WriteLine($"{spec}: {layout.VcpuCount} vCPU(s), {ByteSize.Format(layout.RamBytes)} of RAM");
                foreach (var r in layout.Regions)
                    o.WriteLine($"  {r.Start.Value,14:x}  {ByteSize.Format(r.Length),10}  {r.Name}");
                foreach (var v in layout.Vcpus)
                {
                    var s = v.Slice;
                    o.WriteLine($"  vCPU {v.Index}: {v.Workload}, control 0x{v.ControlPage.Value:x}, writes {s.RegionAPages} pages at 0x{s.RegionABase.Value:x}" +
                        (s.RegionBPages > 0 ? $" and {s.RegionBPages} pages at 0x{s.RegionBBase.Value:x}" : ""));
                }
                return 0;
            }
            catch (Exception e) when (e is FormatException or GuestConfigurationException)
            {
                parse.InvocationConfiguration.Error.WriteLine($"tern guest layout: {e.Message}");
                return 2;
            }
        });
        return command;
    }
}
