using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Tern.Bench.Macro;

/// <summary>
/// An exported Tern guest running under QEMU 7.2 with KVM (the command line of docs/guest.md), with QMP on a unix
/// socket to read guest memory (the workload's counters) through the monitor's <c>xp</c>.
/// </summary>
public sealed class QemuGuestProcess : IDisposable
{
    private const string Qemu = "qemu-system-x86_64";
    private const string Qboot = "/usr/share/qemu/qboot.rom";

    private readonly Process process;
    private readonly string dir;
    private readonly Socket qmp;
    private readonly NetworkStream stream;
    private readonly StreamReader reader;

    /// <summary>Why QEMU cannot run here, or null.</summary>
    public static string? Unavailable()
    {
        if (!File.Exists("/dev/kvm")) return "/dev/kvm absent";
        bool found = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(d => File.Exists(Path.Combine(d, Qemu)));
        return found ? null : $"{Qemu} is not installed (scripts/setup.sh installs qemu-system-x86)";
    }

    /// <param name="memfdRam">Back guest RAM with a shared memfd, as Tern does, rather than QEMU's anonymous memory.</param>
    /// <param name="incomingPort">Wait for a migration on this loopback port (<c>-incoming</c>) instead of booting.</param>
    /// <param name="heartbeatSocket">Send the guest's heartbeats to this unix socket (<see cref="QemuHeartbeatListener"/>) instead of discarding them.</param>
    public QemuGuestProcess(byte[] kernel, ulong memoryBytes, bool memfdRam = false, int? incomingPort = null, string? heartbeatSocket = null)
    {
        dir = Directory.CreateTempSubdirectory("tern-bench-qemu-").FullName;
        string kernelPath = Path.Combine(dir, "guest.elf");
        File.WriteAllBytes(kernelPath, kernel);
        string socket = Path.Combine(dir, "qmp");
        var start = new ProcessStartInfo(Qemu) { RedirectStandardError = true, RedirectStandardOutput = true };
        var args = new List<string> { "-nodefaults" };
        if (File.Exists(Qboot)) args.AddRange(["-bios", Qboot]);
        args.AddRange([
            // -arch-capabilities: kvm_pvm refuses MSR 0x10a, which -cpu host would otherwise make QEMU set.
            "-accel", "kvm", "-cpu", "host,-arch-capabilities", "-m", $"{memoryBytes >> 20}M",
            "-kernel", kernelPath, "-display", "none", "-no-reboot", "-serial", "none",
            "-device", $"isa-debugcon,iobase=0x{Tern.Guest.GuestPorts.Heartbeat:x},chardev=hb",
            "-chardev", heartbeatSocket is null ? "null,id=hb" : $"socket,id=hb,path={heartbeatSocket},server=off",
            "-device", $"isa-debugcon,iobase=0x{Tern.Guest.GuestPorts.Panic:x},chardev=pn", "-chardev", "null,id=pn",
            "-qmp", $"unix:{socket},server=on,wait=off",
        ]);
        if (memfdRam)
        {
            // Guest RAM on a shared memfd, as Tern's is, instead of QEMU's default anonymous memory (which QEMU
            // madvises for transparent huge pages).
            args.AddRange(["-object", $"memory-backend-memfd,id=ram0,size={memoryBytes >> 20}M,share=on", "-machine", "memory-backend=ram0"]);
        }
        if (incomingPort is { } port) args.AddRange(["-incoming", $"tcp:127.0.0.1:{port}"]);
        foreach (var a in args) start.ArgumentList.Add(a);
        process = Process.Start(start) ?? throw new InvalidOperationException("could not start " + Qemu);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                qmp = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                qmp.Connect(new UnixDomainSocketEndPoint(socket));
                break;
            }
            catch (SocketException) when (clock.Elapsed < TimeSpan.FromSeconds(30) && !process.HasExited)
            {
                Thread.Sleep(50);
            }
        }
        stream = new NetworkStream(qmp, ownsSocket: true);
        reader = new StreamReader(stream, Encoding.UTF8);
        reader.ReadLine(); // greeting
        Execute("qmp_capabilities", null);
    }

    /// <summary>CPU time QEMU has used so far (all its threads).</summary>
    public TimeSpan CpuTime
    {
        get
        {
            process.Refresh();
            return process.TotalProcessorTime;
        }
    }

    /// <summary>One 8-byte word of guest-physical memory.</summary>
    public ulong ReadWord(ulong address)
    {
        string text = Execute("human-monitor-command", new JsonObject { ["command-line"] = $"xp /1gx 0x{address:x}" })?.GetValue<string>() ?? "";
        // "0000000000113018: 0x000000000012d687"
        int at = text.LastIndexOf("0x", StringComparison.Ordinal);
        if (at < 0) throw new InvalidOperationException($"QEMU's xp answered '{text.Trim()}'");
        return ulong.Parse(text.AsSpan(at + 2).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
    }

    /// <summary>Runs one QMP command and returns its <c>return</c> member (events in between are skipped).</summary>
    public JsonNode? Execute(string command, JsonObject? arguments)
    {
        var request = new JsonObject { ["execute"] = command };
        if (arguments is not null) request["arguments"] = arguments;
        stream.Write(Encoding.UTF8.GetBytes(request.ToJsonString() + "\n"));
        while (true)
        {
            string reply = reader.ReadLine() ?? throw new InvalidOperationException($"QEMU closed QMP: {process.StandardError.ReadToEnd()}");
            var node = JsonNode.Parse(reply)!;
            if (node["event"] is not null) continue;
            if (node["error"] is { } error) throw new InvalidOperationException($"QMP {command}: {error.ToJsonString()}");
            return node["return"];
        }
    }

    public void Dispose()
    {
        try
        {
            if (!process.HasExited) process.Kill();
            process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
        }
        reader.Dispose();
        process.Dispose();
        try { Directory.Delete(dir, recursive: true); }
        catch (IOException) { }
    }
}
