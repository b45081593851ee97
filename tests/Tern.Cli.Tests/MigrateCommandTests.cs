using Tern.Control.Tests.Support;
using Tern.Migration.Api;

namespace Tern.Cli.Tests;

public sealed class MigrateCommandTests
{
    private static readonly RamStats Ram = new()
    {
        Transferred = 48 << 20, Remaining = 4 << 20, Total = 64 << 20, Mbps = 950, DirtyPagesRate = 1200, DirtySyncCount = 1,
    };

    /// <summary>Setup, active, three passes, then <paramref name="end"/>, paced so a 500 ms poll sees the middle.</summary>
    private static Func<FakeVm, Task> Script(MigrationInfo end) => async vm =>
    {
        vm.SetMigration(new MigrationInfo { Status = MigrationStatus.Active, Ram = Ram, ExpectedDowntimeMs = 80 });
        for (var pass = 1; pass <= 3; pass++)
        {
            vm.StartPass(pass);
            await Task.Delay(150);
        }
        vm.SetMigration(end);
    };

    [Fact]
    public async Task A_completed_migration_shows_progress_and_final_statistics_and_exits_0()
    {
        await using var host = QmpTestHost.Start();
        host.Vm.MigrationScript = Script(new MigrationInfo
        {
            Status = MigrationStatus.Completed,
            TotalTimeMs = 640,
            DowntimeMs = 55,
            Ram = Ram with { Remaining = 0, Transferred = 70 << 20 },
            Verification = new VerificationResult(true, 42, 42, 16384),
        });

        var (exit, output, error) = await TernRun.InvokeAsync(
            "migrate", "--qmp", host.SocketPath, "tcp:dest:4444",
            "--verify", "--xbzrle", "--channels", "4", "--downtime-limit", "100", "--max-bandwidth", "100M", "--timeout", "30");

        Assert.Equal("", error);
        Assert.Equal(0, exit);
        Assert.Contains("migrate:tcp:dest:4444", host.Vm.Calls);
        var caps = host.Vm.GetCapabilities();
        Assert.True(caps[MigrationCapability.Verify] && caps[MigrationCapability.Xbzrle] && caps[MigrationCapability.Multifd]);
        Assert.False(caps[MigrationCapability.Compress]);
        var p = host.Vm.GetParameters();
        Assert.Equal((4, 100L, 100UL << 20, 30_000L), (p.MultifdChannels, p.DowntimeLimitMs, p.MaxBandwidth, p.TimeoutMs));
        // Plain progress lines (the output is not a terminal), then the final statistics.
        Assert.Contains("active, pass ", output);
        Assert.Contains("48 MiB sent, 4 MiB remaining of 64 MiB, 950.00 mbps, dirtying 1200 pages/s, expected downtime 80 ms", output);
        Assert.Contains("Migration status: completed\ntotal time: 640 ms\ndowntime: 55 ms\n", output);
        Assert.Contains("verification: matched (16384 pages compared, digest 0x000000000000002a)", output);
    }

    [Fact]
    public async Task Auto_converge_and_dirty_limit_switch_their_capabilities_and_parameters_on()
    {
        await using var host = QmpTestHost.Start();
        host.Vm.MigrationScript = Script(new MigrationInfo
        {
            Status = MigrationStatus.Completed, TotalTimeMs = 900, DowntimeMs = 40, Ram = Ram with { Remaining = 0 },
            CpuThrottlePercentage = 0, ThrottlePeak = 88, VcpuThrottlePercentages = [0, 0],
            ThrottleReason = "the guest would dirty 400.0 MiB/s of wire bytes unthrottled",
        });

        var (exit, output, error) = await TernRun.InvokeAsync(
            "migrate", "--qmp", host.SocketPath, "tcp:dest:4444", "--throttle-method", "step", "--dirty-limit", "5");

        Assert.Equal("", error);
        Assert.Equal(0, exit);
        var caps = host.Vm.GetCapabilities();
        Assert.True(caps[MigrationCapability.AutoConverge] && caps[MigrationCapability.DirtyLimit]);
        var p = host.Vm.GetParameters();
        Assert.Equal(("step", 5UL), (p.ThrottleMethod, p.VcpuDirtyLimit));
        Assert.Contains("throttle peak: 88%\nthrottle reason: the guest would dirty 400.0 MiB/s", output);
    }

    [Theory]
    [InlineData("--throttle-method", "pid", "pid")]
    [InlineData("--dirty-limit", "0", "--dirty-limit")]
    public async Task Bad_throttle_options_are_refused_naming_the_value(string option, string value, string named)
    {
        var (exit, _, error) = await TernRun.InvokeAsync("migrate", "--qmp", "/nonexistent.sock", "tcp:dest:4444", option, value);
        Assert.NotEqual(0, exit);
        Assert.Contains(named, error);
    }

    [Fact]
    public async Task A_failed_migration_prints_its_error_and_exits_1()
    {
        await using var host = QmpTestHost.Start();
        host.Vm.MigrationScript = Script(new MigrationInfo
        {
            Status = MigrationStatus.Failed,
            ErrorDesc = "the destination closed the connection",
        });

        var (exit, output, error) = await TernRun.InvokeAsync("migrate", "--qmp", host.SocketPath, "tcp:dest:4444");

        Assert.Equal(1, exit);
        Assert.Contains("Migration status: failed (the destination closed the connection)", output);
        Assert.Contains("tern: migration failed: the destination closed the connection; the VM keeps running here", error);
    }

    [Fact]
    public async Task A_setting_the_VM_refuses_is_reported_and_nothing_is_migrated()
    {
        await using var host = QmpTestHost.Start();

        var (exit, _, error) = await TernRun.InvokeAsync("migrate", "--qmp", host.SocketPath, "tcp:dest:4444", "--downtime-limit", "5000000");

        Assert.Equal(1, exit);
        Assert.Contains("tern: the VM refused migrate-set-parameters: downtime-limit must be between 1 and 2000000 ms", error);
        Assert.DoesNotContain(host.Vm.Calls, c => c.StartsWith("migrate:", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("--max-bandwidth", "fast", "--max-bandwidth: 'fast' is not a rate in bytes per second")]
    [InlineData("--channels", "0", "--channels must be at least 1, not 0")]
    [InlineData("--timeout", "-5", "--timeout must be at least 0, not -5")]
    public async Task Bad_option_values_are_refused_before_connecting(string option, string value, string message)
    {
        var (exit, _, error) = await TernRun.InvokeAsync("migrate", "--qmp", "/nonexistent.sock", "tcp:dest:1", option, value);

        Assert.Equal(1, exit);
        Assert.Contains(message, error);
    }

    [Fact]
    public async Task A_missing_socket_is_a_clear_error()
    {
        var path = TestSocketPath.Create();

        var (exit, _, error) = await TernRun.InvokeAsync("migrate", "--qmp", path, "tcp:dest:1");

        Assert.Equal(1, exit);
        Assert.Contains($"cannot connect to QMP socket {path}", error);
    }
}
