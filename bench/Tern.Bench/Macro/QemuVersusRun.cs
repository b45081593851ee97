using System.Diagnostics;
using System.Text.Json.Nodes;
using Tern.Migration.Api;

namespace Tern.Bench.Macro;

/// <summary>
/// One migration of a scenario's exported guest from one QEMU 7.2 process to another over loopback TCP, driven
/// through QMP as an operator would: the guest's write counter read from the source's RAM with the monitor's
/// <c>xp</c>, its heartbeats from both processes' heartbeat port (<see cref="QemuHeartbeatListener"/>).
/// </summary>
public static class QemuVersusRun
{
    public static VersusOutcome Migrate(VersusGuest guest, TimeSpan giveUp)
    {
        var scenario = guest.Scenario;
        int port = QemuConvergenceRun.FreePort();
        using var sourceBeats = new QemuHeartbeatListener();
        using var destinationBeats = new QemuHeartbeatListener();
        using var source = new QemuGuestProcess(guest.Kernel, guest.Memory, heartbeatSocket: sourceBeats.SocketPath);
        using var destination = new QemuGuestProcess(guest.Kernel, guest.Memory, incomingPort: port, heartbeatSocket: destinationBeats.SocketPath);
        ulong Counter() => source.ReadWord(guest.Counter.Value);

        guest.WaitUntilReady(Counter);
        double before = VersusGuest.WritesPerSecond(Counter);

        if (scenario.Xbzrle)
        {
            source.Execute("migrate-set-capabilities", new JsonObject
            {
                ["capabilities"] = new JsonArray(new JsonObject { ["capability"] = "xbzrle", ["state"] = true }),
            });
        }
        var parameters = new JsonObject
        {
            // QEMU's default max-bandwidth is 32 MiB/s; "no cap" is a cap far above loopback.
            ["max-bandwidth"] = scenario.MaxBandwidth == 0 ? 1UL << 40 : scenario.MaxBandwidth,
            ["downtime-limit"] = MigrationParameters.DefaultDowntimeLimitMs,
        };
        if (scenario.QemuXbzrleCache != 0) parameters["xbzrle-cache-size"] = scenario.QemuXbzrleCache;
        source.Execute("migrate-set-parameters", parameters);
        ulong cacheBytes = scenario.Xbzrle ? source.Execute("query-migrate-parameters", null)?["xbzrle-cache-size"]?.GetValue<ulong>() ?? 0 : 0;

        ulong start = Counter();
        var clock = Stopwatch.StartNew();
        source.Execute("migrate", new JsonObject { ["uri"] = $"tcp:127.0.0.1:{port}" });
        JsonNode? info;
        string status;
        while (true)
        {
            info = source.Execute("query-migrate", null);
            status = info?["status"]?.GetValue<string>() ?? "none";
            if (status is "completed" or "failed" or "cancelled") break;
            if (clock.Elapsed > giveUp)
            {
                source.Execute("migrate_cancel", null);
                return Failed($"given up after {giveUp.TotalSeconds:0} s ({info?["ram"]?["remaining"]} bytes remaining)");
            }
            Thread.Sleep(20);
        }
        if (status != "completed") return Failed($"QEMU's migration {status}: {info?["error-desc"]}");
        // QEMU 7.2 sets "completed" a moment before it fills in total-time and downtime (migration_calculate_complete
        // runs after the state change): a query in between reads 0 for both.
        var settle = Stopwatch.StartNew();
        while ((info?["total-time"]?.GetValue<long>() ?? 0) == 0 && settle.Elapsed < TimeSpan.FromSeconds(2))
        {
            Thread.Sleep(5);
            info = source.Execute("query-migrate", null);
        }

        // The destination's first beat may come a moment after QEMU reports completion.
        var wait = Stopwatch.StartNew();
        while (destinationBeats.FirstBeat == 0 && wait.Elapsed < TimeSpan.FromSeconds(5)) Thread.Sleep(5);
        double stopMs = destinationBeats.FirstBeat == 0 || sourceBeats.LastBeat == 0 ? double.NaN
            : Stopwatch.GetElapsedTime(sourceBeats.LastBeat, destinationBeats.FirstBeat).TotalMilliseconds;
        // The source stops where it hands the guest over: its counter is the work done during the migration.
        double total = info!["total-time"]!.GetValue<long>();
        double done = Counter() - start;
        return new VersusOutcome(true, total, info["downtime"]?.GetValue<long>() ?? double.NaN, stopMs, before, done / (total / 1000),
            info["ram"]?["transferred"]?.GetValue<long>() ?? double.NaN, cacheBytes);

        VersusOutcome Failed(string why) => new(false, double.NaN, double.NaN, double.NaN, before, double.NaN, double.NaN, cacheBytes, why);
    }
}
