using System.Text.Json.Nodes;
using Tern.Control.Qmp;

namespace Tern.Cli.Tests.EndToEnd;

/// <summary>Live migration between two `tern run` processes over loopback, driven over QMP as an operator would.</summary>
[Collection(ProcessCollection.Name)]
public sealed class TwoProcessMigrationTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("tern-e2e-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    /// <summary>
    /// Every built-in workload, small enough that each migration takes a few seconds on either backend: at most 32 MiB
    /// of working set dirtied at a capped rate, so what is left after a pass fits the 300 ms downtime budget over
    /// loopback even on a busy machine, without a bandwidth cap.
    /// </summary>
    [Theory]
    [InlineData("idle", 2)]
    [InlineData("stride:ws=16M,rate=50", 1)]
    [InlineData("seq:ws=32M,rate=100", 2)]
    [InlineData("random:ws=16M,rate=50", 2)]
    [InlineData("hotcold:ws=32M,hot=4M,p=0.9,rate=50", 2)]
    public async Task A_running_guest_moves_to_another_process_verified_exact_and_continues_there(string workload, int vcpus)
    {
        int port = TernProcess.FreePort();
        await using var destination = TernProcess.Run(dir, "dst", "--incoming", $"tcp:127.0.0.1:{port}", "--serial", "none");
        await using var source = TernProcess.Run(dir, "src", "--memory", "128M", "--vcpus", $"{vcpus}", "--workload", workload);
        await using var src = await source.ConnectAsync();
        await using var dst = await destination.ConnectAsync();
        Assert.Equal("inmigrate", await TernProcess.StatusAsync(dst));
        Assert.Equal("running", await TernProcess.StatusAsync(src));
        var early = await Assert.ThrowsAsync<QmpErrorException>(() => dst.ExecuteAsync("x-check-guest", cancel: Ct));
        Assert.Contains("being migrated in", early.Description);
        await QmpGuestCheck.WaitForEveryVcpuAsync(src, new ulong[vcpus]);

        await src.ExecuteAsync("migrate-set-capabilities", new JsonObject
        {
            ["capabilities"] = new JsonArray(new JsonObject { ["capability"] = "x-verify", ["state"] = true }),
        }, Ct);
        await src.ExecuteAsync("migrate", new JsonObject { ["uri"] = $"tcp:127.0.0.1:{port}" }, Ct);
        var info = await TernProcess.WaitForMigrationAsync(src, TimeSpan.FromSeconds(120));

        string context = $"{info}\n--- source:\n{source.Output}\n--- destination:\n{destination.Output}";
        Assert.True(info.GetProperty("status").GetString() == "completed", context);
        Assert.True(info.GetProperty("x-verify").GetProperty("matched").GetBoolean(), context);
        Assert.Equal("postmigrate", await TernProcess.StatusAsync(src));
        Assert.Equal("running", await TernProcess.StatusAsync(dst)); // the destination says so before it tells the source

        // The source kept the guest as it handed it over; the destination goes on from there, every byte as the
        // model says, and every vCPU keeps counting.
        var handedOver = await QmpGuestCheck.ExactAsync(src, context);
        var arrived = await QmpGuestCheck.ExactAsync(dst, context);
        for (int v = 0; v < vcpus; v++)
            Assert.True(arrived.Counters[v] >= handedOver.Counters[v], $"vCPU {v} went back from {handedOver.Counters[v]} to {arrived.Counters[v]}");
        await QmpGuestCheck.WaitForEveryVcpuAsync(dst, arrived.Counters);
        await QmpGuestCheck.ExactAsync(dst, context);

        // The downtime the migration measured (pause to the destination's confirmation) and the one the guest saw
        // (its last heartbeat on the source to its first on the destination; heartbeats come every millisecond on
        // both backends) describe one gap: the guest's starts up to a beat earlier and ends before the confirmation
        // travels back.
        long downtime = info.GetProperty("downtime").GetInt64();
        long guestDowntime = info.GetProperty("x-guest-downtime").GetInt64();
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{workload}: downtime {downtime} ms, guest-observed {guestDowntime} ms, {arrived.PagesChecked} pages checked");
        Assert.True(guestDowntime >= downtime / 2 && guestDowntime <= downtime + 500,
            $"guest-observed downtime {guestDowntime} ms vs downtime {downtime} ms\n{context}");

        // The source gave the VM up: running it there too would run it twice, and Tern refuses.
        var refused = await Assert.ThrowsAsync<QmpErrorException>(() => src.ExecuteAsync("cont", cancel: Ct));
        Assert.Contains("twice", refused.Description);
    }

    [Fact]
    public async Task When_the_destination_is_killed_mid_migration_the_source_keeps_running_and_says_why()
    {
        int port = TernProcess.FreePort();
        await using var destination = TernProcess.Run(dir, "dst", "--incoming", $"tcp:127.0.0.1:{port}", "--serial", "none");
        await using var source = TernProcess.Run(dir, "src", "--memory", "256M", "--workload", "seq:ws=128M");
        await using var src = await source.ConnectAsync();
        await using (await destination.ConnectAsync()) { }

        // A slow link, so the migration is still in its first passes when the destination dies.
        await src.ExecuteAsync("migrate-set-parameters", new JsonObject { ["max-bandwidth"] = 8 << 20 }, Ct);
        await src.ExecuteAsync("migrate", new JsonObject { ["uri"] = $"tcp:127.0.0.1:{port}" }, Ct);
        await Task.Delay(1500, Ct);
        destination.Process.Kill(entireProcessTree: true);

        var info = await TernProcess.WaitForMigrationAsync(src, TimeSpan.FromSeconds(60));
        Assert.Equal("failed", info.GetProperty("status").GetString());
        var why = info.GetProperty("error-desc").GetString()!;
        Assert.Contains("keeps running on the source", why);
        Assert.Equal("running", await TernProcess.StatusAsync(src));
        ulong before = await TernProcess.ProgressAsync(src);
        await Task.Delay(300, Ct);
        Assert.True(await TernProcess.ProgressAsync(src) > before, "the guest still runs on the source");
    }

    [Fact]
    public async Task A_qmp_client_that_disconnects_mid_migration_does_not_stop_it()
    {
        int port = TernProcess.FreePort();
        await using var destination = TernProcess.Run(dir, "dst", "--incoming", $"tcp:127.0.0.1:{port}", "--serial", "none");
        // 5 MiB/s of random writes against a 32 MiB/s link converges; at 50 MiB/s the guest would re-dirty most of its
        // 32 MiB working set during every pass and the migration would (rightly) never finish.
        await using var source = TernProcess.Run(dir, "src", "--memory", "128M", "--workload", "random:ws=32M,rate=5");
        await using (await destination.ConnectAsync()) { }
        await using (var first = await source.ConnectAsync())
        {
            await first.ExecuteAsync("migrate-set-parameters", new JsonObject { ["max-bandwidth"] = 32 << 20 }, Ct);
            await first.ExecuteAsync("migrate", new JsonObject { ["uri"] = $"tcp:127.0.0.1:{port}" }, Ct);
        }
        await using var second = await source.ConnectAsync();
        var info = await TernProcess.WaitForMigrationAsync(second, TimeSpan.FromSeconds(120));
        Assert.True(info.GetProperty("status").GetString() == "completed", $"{info}\n{source.Output}");
    }

    [Fact]
    public async Task Tern_migrate_drives_a_migration_and_prints_the_final_statistics()
    {
        int port = TernProcess.FreePort();
        await using var destination = TernProcess.Run(dir, "dst", "--incoming", $"tcp:127.0.0.1:{port}", "--serial", "none");
        await using var source = TernProcess.Run(dir, "src", "--memory", "128M", "--workload", "hotcold:ws=32M,hot=4M,p=0.9,rate=50");
        await using (await destination.ConnectAsync()) { }
        await using (await source.ConnectAsync()) { }

        var (code, output, error) = await TernRun.InvokeAsync("migrate", "--qmp", source.QmpPath, $"tcp:127.0.0.1:{port}", "--verify", "--xbzrle");
        Assert.True(code == 0, $"{output}\n{error}\n{source.Output}");
        Assert.Contains("Migration status: completed", output);
        Assert.Contains("verification: matched", output);
    }

    [Fact]
    public async Task A_deferred_destination_listens_once_told_to_with_migrate_incoming()
    {
        int port = TernProcess.FreePort();
        await using var destination = TernProcess.Run(dir, "dst", "--incoming", "defer", "--serial", "none");
        await using var source = TernProcess.Run(dir, "src", "--memory", "64M", "--workload", "idle");
        await using var dst = await destination.ConnectAsync();
        await using var src = await source.ConnectAsync();
        var bad = await Assert.ThrowsAsync<QmpErrorException>(() => dst.ExecuteAsync("migrate-incoming", new JsonObject { ["uri"] = "rdma:host:1" }, Ct));
        Assert.Contains("rdma", bad.Description);
        await dst.ExecuteAsync("migrate-incoming", new JsonObject { ["uri"] = $"tcp:127.0.0.1:{port}" }, Ct);
        await src.ExecuteAsync("migrate", new JsonObject { ["uri"] = $"tcp:127.0.0.1:{port}" }, Ct);
        var info = await TernProcess.WaitForMigrationAsync(src, TimeSpan.FromSeconds(60));
        Assert.True(info.GetProperty("status").GetString() == "completed", $"{info}\n{destination.Output}");
        Assert.Equal("running", await TernProcess.StatusAsync(dst)); // the destination says so before it tells the source
    }
}
