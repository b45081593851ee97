using System.Text.Json;
using Tern.Control.Qapi;
using Tern.Control.Tests.Support;
using Tern.Migration.Api;

namespace Tern.Control.Tests;

public sealed class QueryMigrateTests
{
    [Fact]
    public async Task Before_any_migration_the_result_is_empty_as_in_QEMU()
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectNegotiatedAsync();

        var info = QmpAssert.Success(await c.CommandAsync("""{"execute": "query-migrate"}"""));

        Assert.Equal("{}", info.GetRawText());
    }

    [Fact]
    public async Task An_active_migration_uses_QAPI_member_names()
    {
        await using var host = QmpTestHost.Start();
        host.Vm.SetMigration(SampleMigrations.Active);
        await using var c = await host.ConnectNegotiatedAsync();

        var info = QmpAssert.Success(await c.CommandAsync("""{"execute": "query-migrate"}"""));

        Assert.Equal("active", info.GetProperty("status").GetString());
        Assert.Equal(5230, info.GetProperty("total-time").GetInt64());
        Assert.Equal(42, info.GetProperty("expected-downtime").GetInt64());
        Assert.Equal(12, info.GetProperty("setup-time").GetInt64());
        var ram = info.GetProperty("ram");
        Assert.Equal(734_003_200, ram.GetProperty("transferred").GetInt64());
        Assert.Equal(52_428_800, ram.GetProperty("remaining").GetInt64());
        Assert.Equal(1123.456, ram.GetProperty("mbps").GetDouble());
        Assert.Equal(3100, ram.GetProperty("dirty-pages-rate").GetInt64());
        Assert.Equal(4096, ram.GetProperty("page-size").GetInt64());
        Assert.Equal(0, ram.GetProperty("skipped").GetInt64());
        Assert.Equal(67_108_864, info.GetProperty("xbzrle-cache").GetProperty("cache-size").GetInt64());
        Assert.Equal(0.1234, info.GetProperty("xbzrle-cache").GetProperty("cache-miss-rate").GetDouble());
        Assert.Equal(7.5, info.GetProperty("xbzrle-cache").GetProperty("encoding-rate").GetDouble());
        Assert.Equal(20_971_520, info.GetProperty("compression").GetProperty("compressed-size").GetInt64());
        Assert.Equal(4, info.GetProperty("x-channels").GetInt32());
        Assert.True(info.GetProperty("x-converging").GetBoolean());
        foreach (var absent in new[] { "downtime", "error-desc", "x-verify", "x-guest-downtime", "cpu-throttle-percentage", "x-plan" })
        {
            Assert.False(info.TryGetProperty(absent, out _), absent);
        }
    }

    [Fact]
    public async Task The_engines_plan_is_reported_apart_from_the_settings_under_x_plan_and_reads_back()
    {
        await using var host = QmpTestHost.Start();
        var plan = new PlanInfo(4, "continue", "9000 dirty pages would take 352 ms to send, above the 300 ms downtime limit", true, 96UL << 20, "zstd",
            [0, 35], "the guest would dirty 150.0 MiB/s of wire bytes unthrottled")
        {
            XbzrleThreads = 2,
            XbzrleThreadsReason = "automatic: one thread's encoding produces 80.0 MiB/s of wire bytes, the link carries 120.0 MiB/s, so 2 threads keep up",
        };
        host.Vm.SetMigration(SampleMigrations.Active with { Plan = plan });
        await using var c = await host.ConnectNegotiatedAsync();

        var info = QmpAssert.Success(await c.CommandAsync("""{"execute": "query-migrate"}"""));

        var x = info.GetProperty("x-plan");
        Assert.Equal(4, x.GetProperty("pass").GetInt64());
        Assert.Equal("continue", x.GetProperty("action").GetString());
        Assert.Equal(plan.Reason, x.GetProperty("reason").GetString());
        Assert.True(x.GetProperty("xbzrle").GetBoolean());
        Assert.Equal(96L << 20, x.GetProperty("xbzrle-cache-size").GetInt64());
        Assert.Equal("zstd", x.GetProperty("compress-method").GetString());
        Assert.Equal(2, x.GetProperty("xbzrle-threads").GetInt32());
        Assert.Equal(plan.XbzrleThreadsReason, x.GetProperty("xbzrle-threads-reason").GetString());
        Assert.Equal([0, 35], x.GetProperty("throttle-percentage").EnumerateArray().Select(e => e.GetInt32()).ToArray());
        var back = MigrationInfoJson.FromJson(info).Plan!;
        Assert.Equal(plan with { ThrottlePercent = null }, back with { ThrottlePercent = null });
        Assert.Equal(plan.ThrottlePercent, back.ThrottlePercent);
    }

    [Fact]
    public async Task The_switchover_steps_are_reported_in_order_in_ms_under_x_switchover_and_read_back()
    {
        await using var host = QmpTestHost.Start();
        SwitchoverStepTime[] steps = [new(SwitchoverStep.Pause, 0.4), new(SwitchoverStep.FinalSync, 1.25), new(SwitchoverStep.FinalPass, 12.5),
            new(SwitchoverStep.DeviceState, 0.2), new(SwitchoverStep.Sent, 0.1), new(SwitchoverStep.Ready, 3), new(SwitchoverStep.Commit, 0.05),
            new(SwitchoverStep.Resumed, 1.5)];
        host.Vm.SetMigration(SampleMigrations.Completed with { Switchover = steps });
        await using var c = await host.ConnectNegotiatedAsync();

        var info = QmpAssert.Success(await c.CommandAsync("""{"execute": "query-migrate"}"""));

        var x = info.GetProperty("x-switchover");
        Assert.Equal(["pause", "final-sync", "final-pass", "device-state", "sent", "ready", "commit", "resumed"], x.EnumerateObject().Select(p => p.Name).ToArray());
        Assert.Equal(12.5, x.GetProperty("final-pass").GetDouble());
        Assert.Equal(steps, MigrationInfoJson.FromJson(info).Switchover);
    }

    [Fact]
    public async Task A_completed_migration_reports_downtime_and_verification()
    {
        await using var host = QmpTestHost.Start();
        host.Vm.SetMigration(SampleMigrations.Completed);
        await using var c = await host.ConnectNegotiatedAsync();

        var info = QmpAssert.Success(await c.CommandAsync("""{"execute": "query-migrate"}"""));

        Assert.Equal("completed", info.GetProperty("status").GetString());
        Assert.Equal(61, info.GetProperty("downtime").GetInt64());
        Assert.Equal(75, info.GetProperty("x-guest-downtime").GetInt64());
        Assert.False(info.TryGetProperty("expected-downtime", out _));
        var verify = info.GetProperty("x-verify");
        Assert.True(verify.GetProperty("matched").GetBoolean());
        Assert.Equal(0x0123456789ABCDEFUL, verify.GetProperty("source-digest").GetUInt64());
        Assert.Equal(262_144, verify.GetProperty("pages-compared").GetInt64());
    }

    [Fact]
    public async Task A_failed_migration_carries_error_desc()
    {
        await using var host = QmpTestHost.Start();
        host.Vm.SetMigration(new MigrationInfo { Status = MigrationStatus.Failed, ErrorDesc = "destination closed the connection" });
        await using var c = await host.ConnectNegotiatedAsync();

        var info = QmpAssert.Success(await c.CommandAsync("""{"execute": "query-migrate"}"""));

        Assert.Equal("failed", info.GetProperty("status").GetString());
        Assert.Equal("destination closed the connection", info.GetProperty("error-desc").GetString());
    }

    [Fact]
    public void The_JSON_shape_round_trips()
    {
        foreach (var info in new[] { SampleMigrations.Active, SampleMigrations.Completed, new MigrationInfo() })
        {
            var json = JsonSerializer.SerializeToElement(MigrationInfoJson.ToJson(info));
            Assert.Equal(info, MigrationInfoJson.FromJson(json));
        }
    }

    [Fact]
    public void Non_finite_rates_are_written_as_zero_rather_than_breaking_the_reply()
    {
        var info = new MigrationInfo { Status = MigrationStatus.Active, Ram = new RamStats { Mbps = double.NaN } };

        var json = JsonSerializer.SerializeToElement(MigrationInfoJson.ToJson(info));

        Assert.Equal(0, json.GetProperty("ram").GetProperty("mbps").GetDouble());
    }

    [Fact]
    public void Reading_a_status_Tern_does_not_know_names_it()
    {
        using var doc = JsonDocument.Parse("""{"status": "wait-unplug"}""");

        var e = Assert.Throws<FormatException>(() => MigrationInfoJson.FromJson(doc.RootElement));

        Assert.Contains("wait-unplug", e.Message);
    }
}
