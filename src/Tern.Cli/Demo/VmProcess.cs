using System.Diagnostics;
using Tern.Control.Qmp;

namespace Tern.Cli.Demo;

/// <summary>A `tern run` child process with its QMP socket and a log file of everything it printed.</summary>
internal sealed class VmProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StreamWriter log;

    private VmProcess(string name, Process process, StreamWriter log, string qmpPath, string logPath)
    {
        Name = name;
        this.process = process;
        this.log = log;
        QmpPath = qmpPath;
        LogPath = logPath;
    }

    public string Name { get; }
    public string QmpPath { get; }
    public string LogPath { get; }
    public bool HasExited => process.HasExited;

    /// <summary>Starts `tern run ARGS --qmp unix:DIR/NAME.sock`, logging to DIR/NAME.log.</summary>
    public static VmProcess Start(string name, string directory, IEnumerable<string> arguments)
    {
        string qmp = Path.Combine(directory, $"{name}.sock");
        string logPath = Path.Combine(directory, $"{name}.log");
        // The tern executable itself when the demo runs as `tern`; otherwise (for example inside a test host) the dotnet
        // host running tern.dll.
        string self = Environment.ProcessPath ?? "";
        bool isTern = Path.GetFileNameWithoutExtension(self) == "tern";
        var info = new ProcessStartInfo(isTern ? self : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (!isTern) info.ArgumentList.Add(typeof(VmProcess).Assembly.Location);
        info.ArgumentList.Add("run");
        foreach (var a in arguments) info.ArgumentList.Add(a);
        info.ArgumentList.Add("--qmp");
        info.ArgumentList.Add($"unix:{qmp}");
        var log = new StreamWriter(logPath) { AutoFlush = true };
        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start the {name} VM process");
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new VmProcess(name, process, log, qmp, logPath);
    }

    /// <summary>Connects to the process's QMP socket, waiting for it to appear.</summary>
    public async Task<QmpClient> ConnectAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (process.HasExited) throw new InvalidOperationException($"the {Name} VM exited (code {process.ExitCode}); see {LogPath}:\n{Tail()}");
            if (File.Exists(QmpPath))
            {
                try
                {
                    return await QmpClient.ConnectAsync(QmpPath);
                }
                catch (QmpConnectionException) when (DateTime.UtcNow < deadline)
                {
                }
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the {Name} VM did not open its QMP socket within {timeout.TotalSeconds:0} s; see {LogPath}:\n{Tail()}");
            await Task.Delay(100);
        }
    }

    /// <summary>The last lines the process printed.</summary>
    public string Tail(int lines = 15)
    {
        lock (log) log.Flush();
        try
        {
            using var reader = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            var all = new StreamReader(reader).ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            return string.Join('\n', all.TakeLast(lines).Select(l => $"  {Name}| {l}"));
        }
        catch (IOException)
        {
            return "";
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            if (!process.WaitForExit(TimeSpan.FromSeconds(10))) process.Kill(entireProcessTree: true);
        }
        await process.WaitForExitAsync();
        process.Dispose();
        lock (log) log.Dispose();
    }
}
