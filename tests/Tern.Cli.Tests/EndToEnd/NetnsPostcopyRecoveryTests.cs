using System.Text.Json.Nodes;
using Tern.Control.Qmp;

namespace Tern.Cli.Tests.EndToEnd;

/// <summary>
/// Post-copy across a real link that goes away: the destination `tern run --incoming` runs in a network namespace
/// reached through a veth pair; mid post-copy the veth is taken down (packets stop, no reset reaches either side),
/// the operator pauses both sides (migrate-pause, as with QEMU when the network hangs), brings the link back,
/// and recovers on a new port (migrate-recover, migrate with resume): the migration completes, verified, and the guest
/// is exact on the destination.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class NetnsPostcopyRecoveryTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("tern-e2e-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public async Task A_veth_taken_down_mid_postcopy_then_up_again_recovers_and_completes_verified()
    {
        using var ns = VethNamespace.Create();
        int port = TernProcess.FreePort(), recoverPort = TernProcess.FreePort();
        await using var destination = TernProcess.RunInNamespace(ns.Name, dir, "dst", "--backend", "sim", "--incoming", $"tcp:{ns.InsideAddress}:{port}", "--serial", "none");
        await using var source = TernProcess.Run(dir, "src", "--backend", "sim", "--memory", "64M", "--vcpus", "2", "--workload", PostcopyProcesses.Workload);
        await using var src = await source.ConnectAsync();
        await using var dst = await destination.ConnectAsync();
        await QmpGuestCheck.WaitForEveryVcpuAsync(src, new ulong[2]);

        await PostcopyProcesses.StartInPostcopyAsync(src, $"tcp:{ns.InsideAddress}:{port}", verify: true);
        ns.SetLink(up: false);
        await Task.Delay(500, Ct); // the link is gone for a while: both sides still think it works
        await dst.ExecuteAsync("migrate-pause", cancel: Ct);
        await src.ExecuteAsync("migrate-pause", cancel: Ct);
        await PostcopyProcesses.WaitForStatusAsync(dst, "postcopy-paused");
        await PostcopyProcesses.WaitForStatusAsync(src, "postcopy-paused");
        Assert.Equal("paused", await TernProcess.StatusAsync(dst));

        ns.SetLink(up: true);
        await dst.ExecuteAsync("migrate-recover", new JsonObject { ["uri"] = $"tcp:{ns.InsideAddress}:{recoverPort}" }, Ct);
        await src.ExecuteAsync("migrate-set-parameters", new JsonObject { ["max-postcopy-bandwidth"] = 0 }, Ct);
        await src.ExecuteAsync("migrate", new JsonObject { ["uri"] = $"tcp:{ns.InsideAddress}:{recoverPort}", ["resume"] = true }, Ct);

        var info = await TernProcess.WaitForMigrationAsync(src, TimeSpan.FromSeconds(60));
        string context = $"{info}\n--- source:\n{source.Output}\n--- destination:\n{destination.Output}";
        Assert.True(info.GetProperty("status").GetString() == "completed", context);
        Assert.True(info.GetProperty("x-verify").GetProperty("matched").GetBoolean(), context);
        await PostcopyProcesses.WaitForStatusAsync(dst, "completed");
        Assert.Equal("running", await TernProcess.StatusAsync(dst));
        var arrived = await QmpGuestCheck.ExactAsync(dst, context);
        await QmpGuestCheck.WaitForEveryVcpuAsync(dst, arrived.Counters);
    }
}
