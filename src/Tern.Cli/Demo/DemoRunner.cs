using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Tern.Control.Qmp;
using Tern.Control.Text;
using Tern.Machine;
using Tern.Migration.Api;

namespace Tern.Cli.Demo;

/// <summary>
/// The main job: a source and a destination `tern run` process on this machine, a dirtying guest on the source,
/// a live migration with verification between them over loopback TCP, and the report. It drives both processes the
/// way an operator would, over QMP.
/// </summary>
internal sealed class DemoRunner(DemoOptions options, TextWriter output)
{
    public async Task<int> RunAsync(CancellationToken cancel)
    {
        var backend = options.Backend == MachineBackend.Auto
            ? (global::Tern.Kvm.Kvm.IsPresent ? MachineBackend.Kvm : MachineBackend.Sim) : options.Backend;
        string backendName = backend.ToString().ToLowerInvariant();
        if (backend == MachineBackend.Sim && options.Backend == MachineBackend.Auto)
            output.WriteLine("tern demo: /dev/kvm is absent here, so the guest is simulated in the VM processes (--backend sim)");

        var directory = Directory.CreateTempSubdirectory("tern-demo-").FullName;
        int port = FreePort();
        string uri = $"tcp:127.0.0.1:{port}";
        output.WriteLine($"tern demo: source VM: {options.Workload} on {options.Vcpus} vCPU(s) with {options.Memory} ({backendName}); logs in {directory}");

        await using var destination = VmProcess.Start("destination", directory,
            ["--incoming", uri, "--backend", backendName, "--display", "plain", "--serial", "none"]);
        await using var source = VmProcess.Start("source", directory,
            ["--memory", options.Memory, "--vcpus", options.Vcpus.ToString(CultureInfo.InvariantCulture), "--workload", options.Workload,
             "--backend", backendName, "--display", "plain"]);
        try
        {
            await using var src = await source.ConnectAsync(TimeSpan.FromSeconds(60));
            await using var dst = await destination.ConnectAsync(TimeSpan.FromSeconds(60));

            var before = await GuestRates(src, "source", cancel);
            output.WriteLine($"tern demo: the guest runs on the source: {before}");

            output.WriteLine($"tern demo: migrating to {uri} (downtime limit {options.DowntimeLimitMs} ms, verification on)");
            var runner = new QmpMigrationRunner(src, QmpMigrationRunner.DefaultPollInterval);
            long lastPass = -1;
            var final = await runner.RunAsync(new MigrateRequest(uri) { Verify = true, DowntimeLimitMs = options.DowntimeLimitMs }, p =>
            {
                if (p.Pass != lastPass) output.WriteLine("  " + MigrationProgressText.Describe(p));
                lastPass = p.Pass;
            }, cancel);

            output.WriteLine();
            output.Write(InfoMigrateFormatter.Format(final));
            output.WriteLine();
            if (final.Status != MigrationStatus.Completed)
            {
                output.WriteLine($"tern demo: the migration {final.Status.ToQapi()}: {final.ErrorDesc}; the VM keeps running on the source");
                return 1;
            }

            var srcStatus = await Status(src, cancel);
            var dstStatus = await Status(dst, cancel);
            var after = await GuestRates(dst, "destination", cancel);
            output.WriteLine($"tern demo: source is {srcStatus}, destination is {dstStatus}");
            output.WriteLine($"tern demo: the guest continues on the destination: {after}");
            if (final.GuestDowntimeMs is { } g) output.WriteLine($"tern demo: downtime {final.DowntimeMs} ms as the migration measured it, {g} ms as the guest saw it (longest heartbeat gap)");
            bool verified = final.Verification is { Matched: true };
            output.WriteLine(verified
                ? $"tern demo: verified: all {final.Verification!.PagesCompared} pages of guest RAM hash to 0x{final.Verification.SourceDigest:x16} on both sides"
                : "tern demo: VERIFICATION FAILED");
            bool exact = await CheckAgainstModel(dst, cancel);

            await Quit(src);
            await Quit(dst);
            bool ok = verified && exact && dstStatus == "running" && srcStatus == "postmigrate";
            output.WriteLine(ok ? "tern demo: done" : "tern demo: something is wrong: see the logs above");
            return ok ? 0 : 1;
        }
        catch (Exception e) when (e is QmpConnectionException or QmpErrorException or InvalidOperationException or TimeoutException)
        {
            output.WriteLine($"tern demo: {e.Message}");
            output.WriteLine(source.Tail());
            output.WriteLine(destination.Tail());
            return 1;
        }
    }

    private static async Task<string> Status(QmpClient client, CancellationToken cancel) =>
        (await client.ExecuteAsync("query-status", cancel: cancel)).GetProperty("status").GetString() ?? "?";

    /// <summary>Two readings of x-query-guest a second apart: heartbeats and progress per second.</summary>
    private static async Task<string> GuestRates(QmpClient client, string where, CancellationToken cancel)
    {
        var first = await client.ExecuteAsync("x-query-guest", cancel: cancel);
        var started = DateTime.UtcNow;
        await Task.Delay(1000, cancel);
        var second = await client.ExecuteAsync("x-query-guest", cancel: cancel);
        double seconds = (DateTime.UtcNow - started).TotalSeconds;
        double beats = (second.GetProperty("heartbeats").GetInt64() - first.GetProperty("heartbeats").GetInt64()) / seconds;
        double writes = (Sum(second) - Sum(first)) / seconds;
        if (writes <= 0 && beats <= 0) throw new InvalidOperationException($"the guest on the {where} is not making progress");
        return string.Create(CultureInfo.InvariantCulture, $"{beats:0} heartbeats/s, {writes / 1e6:0.0} M writes/s, progress counters {string.Join(", ", second.GetProperty("progress").EnumerateArray().Select(e => e.GetUInt64()))}");
    }

    /// <summary>
    /// x-check-guest on the destination: every byte of the guest's working set against its workload model, at the
    /// counters the guest has reached there (the check pauses it for milliseconds).
    /// </summary>
    private async Task<bool> CheckAgainstModel(QmpClient destination, CancellationToken cancel)
    {
        var check = await destination.ExecuteAsync("x-check-guest", cancel: cancel);
        bool exact = check.GetProperty("exact").GetBoolean();
        output.WriteLine(exact
            ? $"tern demo: the guest's memory on the destination matches its workload model ({check.GetProperty("pages-checked").GetUInt64()} pages checked)"
            : $"tern demo: THE GUEST'S MEMORY ON THE DESTINATION DIFFERS FROM ITS WORKLOAD MODEL: {check.GetProperty("report").GetString()}");
        return exact;
    }

    private static double Sum(JsonElement guest) => guest.GetProperty("progress").EnumerateArray().Sum(e => (double)e.GetUInt64());

    private static async Task Quit(QmpClient client)
    {
        try
        {
            await client.ExecuteAsync("quit");
        }
        catch (Exception e) when (e is QmpConnectionException or QmpErrorException)
        {
            // The process may close the socket before it answers.
        }
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}

internal sealed record DemoOptions(MachineBackend Backend, string Memory, int Vcpus, string Workload, long DowntimeLimitMs);
