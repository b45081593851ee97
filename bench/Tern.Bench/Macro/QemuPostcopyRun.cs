using System.Diagnostics;
using System.Text.Json.Nodes;
using Tern.Guest;
using Tern.Guest.Multiboot;
using Tern.Memory;

namespace Tern.Bench.Macro;

/// <summary>
/// The same guest exported (<c>tern guest export</c>) and migrated by QEMU 7.2 with KVM from one process to another
/// over loopback, postcopy-ram on both, switched to post-copy after its first pass: <c>migrate-start-postcopy</c> as
/// soon as query-migrate's <c>dirty-sync-count</c> moves past the sync QEMU makes at the start (1), i.e. when the sync
/// that ends pass 1 has run. (QEMU switches at its next iteration once asked: asked during pass 1 it would switch in
/// the middle of it.) The guest's progress is its counter read through QMP (<c>xp</c>) on each side.
/// </summary>
public static class QemuPostcopyRun
{
    /// <param name="postcopyBandwidth">max-postcopy-bandwidth; 0 is QEMU's default (unlimited after the switch).</param>
    public static PostcopyOutcome Migrate(string workload, ulong memory, ulong link, ulong postcopyBandwidth, Action<string>? log)
    {
        var spec = WorkloadSpec.Parse(workload);
        byte[] kernel = MultibootExporter.Export(spec, memory, TscFrequency.HostKhzOrFallback());
        var image = MultibootImage.Load(kernel, memory);
        var layout = image.Layout ?? throw new InvalidOperationException("the exported guest has no Tern layout");
        var counter = layout.Vcpus[0].ControlPage.Add(ControlPage.Counter);
        int port = QemuConvergenceRun.FreePort();
        using var source = new QemuGuestProcess(kernel, memory);
        using var destination = new QemuGuestProcess(kernel, memory, incomingPort: port);

        ulong sweep = layout.WorkingSet.Length / PageSize.Bytes;
        var warmUp = Stopwatch.StartNew();
        while (source.ReadWord(counter.Value) < 2 * sweep && warmUp.Elapsed < TimeSpan.FromSeconds(120)) Thread.Sleep(100);
        ulong before0 = source.ReadWord(counter.Value);
        var clock = Stopwatch.StartNew();
        Thread.Sleep(1000);
        double rateBefore = (source.ReadWord(counter.Value) - before0) / clock.Elapsed.TotalSeconds;

        var postcopyRam = new JsonObject
        {
            ["capabilities"] = new JsonArray(new JsonObject { ["capability"] = "postcopy-ram", ["state"] = true }),
        };
        destination.Execute("migrate-set-capabilities", postcopyRam);
        source.Execute("migrate-set-capabilities", postcopyRam.DeepClone().AsObject());
        source.Execute("migrate-set-parameters", new JsonObject { ["max-bandwidth"] = link, ["max-postcopy-bandwidth"] = postcopyBandwidth });
        source.Execute("migrate", new JsonObject { ["uri"] = $"tcp:127.0.0.1:{port}" });
        clock.Restart();
        bool asked = false;
        long activeAt = 0;
        double postcopyMs = double.NaN;
        JsonNode? info;
        string status;
        while (true)
        {
            info = source.Execute("query-migrate", null);
            status = info?["status"]?.GetValue<string>() ?? "none";
            if (!asked && status == "active" && (info?["ram"]?["dirty-sync-count"]?.GetValue<long>() ?? 0) >= 2)
            {
                source.Execute("migrate-start-postcopy", null);
                asked = true;
                log?.Invoke($"    qemu: migrate-start-postcopy at {clock.Elapsed.TotalSeconds:0.00} s, {(info?["ram"]?["transferred"]?.GetValue<long>() ?? 0) >> 20} MiB transferred");
            }
            if (status == "postcopy-active" && activeAt == 0) activeAt = Stopwatch.GetTimestamp();
            if (status is "completed" or "failed" or "cancelled")
            {
                if (activeAt != 0) postcopyMs = Stopwatch.GetElapsedTime(activeAt).TotalMilliseconds;
                break;
            }
            if (clock.Elapsed > TimeSpan.FromMinutes(2))
            {
                status = "given up";
                break;
            }
            Thread.Sleep(asked ? 1 : 5);
        }
        bool completed = status == "completed";
        // The destination's counter right after completion, the source's where it stopped (at the switch).
        ulong atEnd = completed ? destination.ReadWord(counter.Value) : 0;
        ulong atSwitch = source.ReadWord(counter.Value);
        var ram = info?["ram"];
        long postcopyBytes = ram?["postcopy-bytes"]?.GetValue<long>() ?? 0;
        return new PostcopyOutcome(completed, info?["total-time"]?.GetValue<long>() ?? clock.Elapsed.TotalMilliseconds,
            info?["downtime"]?.GetValue<long>() is { } d ? d : double.NaN, postcopyMs, null,
            ram?["postcopy-requests"]?.GetValue<long>() ?? 0, postcopyBytes / PageSize.Bytes, 0, null, null, null, rateBefore,
            completed && atEnd >= atSwitch ? (atEnd - atSwitch) / (postcopyMs / 1000) : double.NaN, null, null,
            completed ? null : $"{status}: {info?["error-desc"]?.GetValue<string>()}");
    }
}
