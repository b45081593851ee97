using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Tern.Guest;
using Tern.Guest.Multiboot;
using Xunit;

namespace Tern.Machine.Tests.Guest;

/// <summary>
/// Test harness: boots a multiboot file under QEMU with KVM, with COM1, the heartbeat port and the panic port
/// each captured to a file (isa-debugcon), and QMP on a unix socket to pause the guest and dump its memory.
/// Uses QEMU's qboot firmware when installed (it reaches the kernel in well under a second here, where SeaBIOS
/// takes several: on kvm_pvm every firmware instruction is emulated).
/// </summary>
internal sealed class QemuGuest : IDisposable
{
    private const string Qemu = "qemu-system-x86_64";
    private const string Qboot = "/usr/share/qemu/qboot.rom";

    private readonly Process _process;
    private readonly string _dir;
    private Socket? _qmp;
    private NetworkStream? _qmpStream;
    private StreamReader? _qmpReader;

    public string SerialPath => Path.Combine(_dir, "serial");
    public string HeartbeatPath => Path.Combine(_dir, "heartbeat");
    public string PanicPath => Path.Combine(_dir, "panic");

    /// <summary>Why QEMU tests cannot run here, or null if they can.</summary>
    public static string? Unavailable()
    {
        if (!File.Exists("/dev/kvm")) return "/dev/kvm is absent: the QEMU boot tests need KVM";
        string? qemu = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, Qemu))
            .FirstOrDefault(File.Exists);
        return qemu is null ? $"{Qemu} is not installed (scripts/setup.sh installs qemu-system-x86)" : null;
    }

    public static void SkipIfUnavailable()
    {
        string? why = Unavailable();
        if (why is not null) Assert.Skip(why);
    }

    public QemuGuest(byte[] kernel, string memory)
    {
        _dir = Directory.CreateTempSubdirectory("tern-qemu-").FullName;
        string kernelPath = Path.Combine(_dir, "guest.elf");
        File.WriteAllBytes(kernelPath, kernel);
        var args = new List<string> { "-nodefaults" };
        if (File.Exists(Qboot)) args.AddRange(["-bios", Qboot]);
        args.AddRange([
            // -arch-capabilities: kvm_pvm refuses MSR 0x10a, which -cpu host would otherwise make QEMU set.
            "-accel", "kvm", "-cpu", "host,-arch-capabilities", "-m", memory,
            "-kernel", kernelPath, "-display", "none", "-no-reboot",
            "-serial", $"file:{SerialPath}",
            "-device", $"isa-debugcon,iobase=0x{Tern.Guest.GuestPorts.Heartbeat:x},chardev=hb", "-chardev", $"file,id=hb,path={HeartbeatPath}",
            "-device", $"isa-debugcon,iobase=0x{Tern.Guest.GuestPorts.Panic:x},chardev=pn", "-chardev", $"file,id=pn,path={PanicPath}",
            "-qmp", $"unix:{Path.Combine(_dir, "qmp")},server=on,wait=off",
        ]);
        var start = new ProcessStartInfo(Qemu) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start " + Qemu);
    }

    /// <summary>
    /// Builds <paramref name="workload"/> for one vCPU and <paramref name="ramBytes"/> of RAM, boots it under QEMU from
    /// its multiboot export and waits (at most 60 s) for its banner: the start of every QEMU guest test.
    /// </summary>
    public static QemuGuest Boot(GuestWorkload workload, out GuestImage image, ulong ramBytes = 64UL << 20)
    {
        image = GuestImageBuilder.Build(workload, ramBytes, new GuestBuildOptions(1, TscFrequency.HostKhzOrFallback()));
        var qemu = new QemuGuest(MultibootExporter.Export(image), $"{ramBytes >> 20}M");
        try
        {
            qemu.WaitForSerial(GuestImageBuilder.Banner(workload, 1), TimeSpan.FromSeconds(60));
            return qemu;
        }
        catch
        {
            qemu.Dispose();
            throw;
        }
    }

    public string Serial => File.Exists(SerialPath) ? File.ReadAllText(SerialPath) : "";

    public long HeartbeatBytes => File.Exists(HeartbeatPath) ? new FileInfo(HeartbeatPath).Length : 0;

    public byte[] PanicBytes => File.Exists(PanicPath) ? File.ReadAllBytes(PanicPath) : [];

    /// <summary>Waits until the serial output contains <paramref name="text"/>; fails with QEMU's stderr if it exits or times out.</summary>
    public void WaitForSerial(string text, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!Serial.Contains(text, StringComparison.Ordinal))
        {
            if (_process.HasExited)
                Assert.Fail($"QEMU exited with {_process.ExitCode} before printing '{text.TrimEnd()}': {_process.StandardError.ReadToEnd()}");
            if (clock.Elapsed > timeout)
                Assert.Fail($"no '{text.TrimEnd()}' on the serial port after {timeout.TotalSeconds} s; serial so far: '{Serial}'");
            Thread.Sleep(20);
        }
    }

    /// <summary>Runs an HMP command through QMP and returns its text output.</summary>
    public string Human(string command) =>
        Execute("human-monitor-command", new JsonObject { ["command-line"] = command })?.GetValue<string>() ?? "";

    /// <summary>Reads 8-byte words of guest-physical memory with the monitor's xp.</summary>
    public ulong[] ReadPhysical(ulong address, int words)
    {
        string text = Human($"xp /{words}gx 0x{address:x}");
        return text.Split((char[])['\n', '\r', ' '], StringSplitOptions.RemoveEmptyEntries)
            .Where(t => t.StartsWith("0x", StringComparison.Ordinal) && !t.EndsWith(':'))
            .Select(t => Convert.ToUInt64(t, 16))
            .ToArray();
    }

    /// <summary>Pauses the vCPUs (at an instruction boundary).</summary>
    public void Pause() => Execute("stop", null);

    /// <summary>Dumps guest-physical memory [0, bytes) and returns it.</summary>
    public byte[] DumpMemory(ulong bytes)
    {
        string path = Path.Combine(_dir, "memory");
        Execute("pmemsave", new JsonObject { ["val"] = 0, ["size"] = bytes, ["filename"] = path });
        return File.ReadAllBytes(path);
    }

    private JsonNode? Execute(string command, JsonObject? arguments)
    {
        Connect();
        var request = new JsonObject { ["execute"] = command };
        if (arguments is not null) request["arguments"] = arguments;
        byte[] line = Encoding.UTF8.GetBytes(request.ToJsonString() + "\n");
        _qmpStream!.Write(line);
        while (true)
        {
            string? reply = _qmpReader!.ReadLine() ?? throw new InvalidOperationException("QMP connection closed");
            var node = JsonNode.Parse(reply)!;
            if (node["event"] is not null) continue;
            if (node["error"] is { } error) throw new InvalidOperationException($"QMP {command}: {error.ToJsonString()}");
            return node["return"];
        }
    }

    private void Connect()
    {
        if (_qmp is not null) return;
        string path = Path.Combine(_dir, "qmp");
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                socket.Connect(new UnixDomainSocketEndPoint(path));
                _qmp = socket;
                break;
            }
            catch (SocketException) when (clock.Elapsed < TimeSpan.FromSeconds(30) && !_process.HasExited)
            {
                Thread.Sleep(50);
            }
        }
        _qmpStream = new NetworkStream(_qmp, ownsSocket: false);
        _qmpReader = new StreamReader(_qmpStream, Encoding.UTF8);
        _qmpReader.ReadLine(); // greeting
        Execute("qmp_capabilities", null);
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited) _process.Kill();
            _process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
        }
        _qmpReader?.Dispose();
        _qmpStream?.Dispose();
        _qmp?.Dispose();
        _process.Dispose();
        try { Directory.Delete(_dir, recursive: true); }
        catch (IOException) { }
    }
}
