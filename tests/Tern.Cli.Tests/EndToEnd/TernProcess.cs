using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Tern.Control.Qmp;

namespace Tern.Cli.Tests.EndToEnd;

/// <summary>
/// A real `tern run` process (the built tern.dll run by the dotnet host), with a QMP socket in a temp directory and
/// everything it prints captured. Real processes, real sockets: what an operator would run.
/// </summary>
internal sealed class TernProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new();

    private TernProcess(Process process, string qmpPath)
    {
        this.process = process;
        QmpPath = qmpPath;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string QmpPath { get; }
    public Process Process => process;
    public string Output { get { lock (output) return output.ToString(); } }

    public static TernProcess Run(string directory, string name, params string[] arguments)
    {
        string qmp = Path.Combine(directory, name + ".sock");
        return Start(qmp, ["run", .. arguments, "--qmp", "unix:" + qmp, "--display", "plain"]);
    }

    /// <summary>`tern run` inside network namespace <paramref name="netns"/> (through `ip netns exec`, which execs it: the process is tern's).</summary>
    public static TernProcess RunInNamespace(string netns, string directory, string name, params string[] arguments)
    {
        string qmp = Path.Combine(directory, name + ".sock");
        var info = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])["netns", "exec", netns, "dotnet", typeof(TernCommandLine).Assembly.Location, "run", .. arguments, "--qmp", "unix:" + qmp, "--display", "plain"])
            info.ArgumentList.Add(a);
        return new TernProcess(Process.Start(info)!, qmp);
    }

    /// <summary>Any tern command line, as typed (no QMP socket added).</summary>
    public static TernProcess Start(params string[] arguments) => Start("", arguments);

    private static TernProcess Start(string qmpPath, string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(typeof(TernCommandLine).Assembly.Location);
        foreach (var a in arguments) info.ArgumentList.Add(a);
        return new TernProcess(Process.Start(info)!, qmpPath);
    }

    /// <summary>Waits for the process to exit by itself and returns its exit code (fails the test after the timeout).</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        limit.CancelAfter(timeout);
        try { await process.WaitForExitAsync(limit.Token); }
        catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
        {
            Assert.Fail($"tern did not exit within {timeout.TotalSeconds} s:\n{Output}");
        }
        process.WaitForExit(); // flushes the redirected output
        return process.ExitCode;
    }

    /// <summary>Waits until the output has at least <paramref name="count"/> lines matching <paramref name="pattern"/>.</summary>
    public async Task WaitForLinesAsync(System.Text.RegularExpressions.Regex pattern, int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Output.Split('\n').Count(pattern.IsMatch) < count)
        {
            Assert.False(process.HasExited, $"tern exited early:\n{Output}");
            Assert.True(DateTime.UtcNow < deadline, $"fewer than {count} lines like {pattern} after {timeout.TotalSeconds} s:\n{Output}");
            await Task.Delay(100, Ct);
        }
    }

    public async Task<QmpClient> ConnectAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            Assert.False(process.HasExited, $"tern run exited early:\n{Output}");
            if (File.Exists(QmpPath))
            {
                try { return await QmpClient.ConnectAsync(QmpPath, Ct); }
                catch (QmpConnectionException) when (DateTime.UtcNow < deadline) { }
            }
            Assert.True(DateTime.UtcNow < deadline, $"no QMP socket after 60 s:\n{Output}");
            await Task.Delay(100, Ct);
        }
    }

    public static async Task<string> StatusAsync(QmpClient client) =>
        (await client.ExecuteAsync("query-status", cancel: Ct)).GetProperty("status").GetString()!;

    /// <summary>The guest's total progress counter (x-query-guest).</summary>
    public static async Task<ulong> ProgressAsync(QmpClient client)
    {
        var guest = await client.ExecuteAsync("x-query-guest", cancel: Ct);
        ulong sum = 0;
        foreach (var p in guest.GetProperty("progress").EnumerateArray()) sum += p.GetUInt64();
        return sum;
    }

    public static async Task<JsonElement> WaitForMigrationAsync(QmpClient client, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var info = await client.ExecuteAsync("query-migrate", cancel: Ct);
            var status = info.TryGetProperty("status", out var s) ? s.GetString() : "none";
            if (status is "completed" or "failed" or "cancelled") return info;
            Assert.True(DateTime.UtcNow < deadline, $"migration still {status} after {timeout.TotalSeconds} s");
            await Task.Delay(200, Ct);
        }
    }

    public static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        process.Dispose();
    }
}
