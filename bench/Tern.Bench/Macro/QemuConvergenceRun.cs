using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Tern.Guest;
using Tern.Guest.Multiboot;
using Tern.Memory;

namespace Tern.Bench.Macro;

/// <summary>
/// One migration of the exported guest (<c>tern guest export</c>) from one QEMU 7.2 process to another over loopback,
/// with QEMU's own auto-converge, link cap and downtime limit: the row the issue measured on another machine (70 s,
/// the guest at a fifth of its speed), measured here in the same run as Tern's methods. The guest's progress is read
/// from the source's RAM through QMP (<c>xp</c>), as for Tern it is read from the source machine's RAM.
/// </summary>
public static class QemuConvergenceRun
{
    public static ConvergenceOutcome Migrate(string workload, ulong memory, ulong link, long downtimeLimitMs, long giveUpMs)
    {
        var spec = WorkloadSpec.Parse(workload);
        byte[] kernel = MultibootExporter.Export(spec, memory, TscFrequency.HostKhzOrFallback());
        var image = MultibootImage.Load(kernel, memory);
        var layout = image.Layout ?? throw new InvalidOperationException("the exported guest has no Tern layout");
        var counter = layout.Vcpus[0].ControlPage.Add(ControlPage.Counter);
        int port = FreePort();
        using var source = new QemuGuestProcess(kernel, memory);
        using var destination = new QemuGuestProcess(kernel, memory, incomingPort: port);
        ulong Progress() => source.ReadWord(counter.Value);

        ulong sweep = layout.WorkingSet.Length / PageSize.Bytes;
        var warmUp = Stopwatch.StartNew();
        while (Progress() < 2 * sweep && warmUp.Elapsed < TimeSpan.FromSeconds(120)) Thread.Sleep(100);
        ulong before0 = Progress();
        var clock = Stopwatch.StartNew();
        Thread.Sleep(1000);
        double rateBefore = (Progress() - before0) / clock.Elapsed.TotalSeconds;

        source.Execute("migrate-set-capabilities", new JsonObject
        {
            ["capabilities"] = new JsonArray(new JsonObject { ["capability"] = "auto-converge", ["state"] = true }),
        });
        source.Execute("migrate-set-parameters", new JsonObject { ["max-bandwidth"] = link, ["downtime-limit"] = downtimeLimitMs });
        ulong start = Progress();
        clock.Restart();
        source.Execute("migrate", new JsonObject { ["uri"] = $"tcp:127.0.0.1:{port}" });
        int peak = 0;
        JsonNode? info;
        string status;
        while (true)
        {
            info = source.Execute("query-migrate", null);
            status = info?["status"]?.GetValue<string>() ?? "none";
            peak = Math.Max(peak, info?["cpu-throttle-percentage"]?.GetValue<int>() ?? 0);
            if (status is "completed" or "failed" or "cancelled") break;
            if (clock.ElapsedMilliseconds > giveUpMs)
            {
                source.Execute("migrate_cancel", null);
                Thread.Sleep(500);
                info = source.Execute("query-migrate", null);
                status = "given up";
                break;
            }
            Thread.Sleep(200);
        }
        double seconds = clock.Elapsed.TotalSeconds;
        // After completion the source is stopped where it handed the guest over: its counter is the progress made there.
        double done = Progress() - start;
        long passes = info?["ram"]?["dirty-sync-count"]?.GetValue<long>() ?? 0;
        double downtime = info?["downtime"]?.GetValue<long>() is { } d ? d : double.NaN;
        double total = info?["total-time"]?.GetValue<long>() is { } t && status == "completed" ? t : seconds * 1000;
        return new ConvergenceOutcome(status == "completed", total, downtime, peak, done / seconds / rateBefore,
            Math.Max(0, rateBefore * seconds - done) / rateBefore, passes);
    }

    internal static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }
}

/// <summary>One migration under one convergence method, as the convergence table reports it.</summary>
public sealed record ConvergenceOutcome(bool Completed, double TotalMs, double DowntimeMs, int PeakThrottle, double RateRatio, double LostSeconds, long Passes)
{
    public override string ToString() =>
        $"{(Completed ? "completed" : "did not finish")} in {TotalMs / 1000:0.0} s, downtime {DowntimeMs:0} ms, peak throttle {PeakThrottle}%, " +
        $"guest at {RateRatio:0.00} of its speed, {LostSeconds:0.0} s of its work lost, {Passes} passes";
}
