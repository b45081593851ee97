using Tern.Control.Tests.Support;
using Tern.Migration.Api;

namespace Tern.Cli.Tests;

public sealed class InfoMigrateCommandTests
{
    private static readonly MigrationInfo Active = new()
    {
        Status = MigrationStatus.Active,
        TotalTimeMs = 1500,
        ExpectedDowntimeMs = 30,
        Ram = new RamStats { Transferred = 10 << 20, Remaining = 2 << 20, Total = 64 << 20, Mbps = 812.5, DirtySyncCount = 2 },
        XbzrleCache = new XbzrleCacheStats { CacheSize = 1 << 20, CacheMissRate = 0.25 },
    };

    [Theory]
    [InlineData("")]
    [InlineData("unix:")]
    public async Task Prints_the_migration_like_QEMU_info_migrate(string prefix)
    {
        await using var host = QmpTestHost.Start();
        host.Vm.SetMigration(Active);

        var (exit, output, error) = await TernRun.InvokeAsync("info", "migrate", "--qmp", prefix + host.SocketPath);

        Assert.Equal(0, exit);
        Assert.Equal("", error);
        Assert.StartsWith("Migration status: active\ntotal time: 1500 ms\nexpected downtime: 30 ms\n", output);
        Assert.Contains("\ntransferred ram: 10240 kbytes\nthroughput: 812.50 mbps\nremaining ram: 2048 kbytes\n", output);
        Assert.Contains("\ncache size: 1048576 bytes\n", output);
        Assert.Contains("\nxbzrle cache miss rate: 0.25\n", output);
    }

    [Fact]
    public async Task Before_any_migration_it_says_none()
    {
        await using var host = QmpTestHost.Start();

        var (exit, output, _) = await TernRun.InvokeAsync("info", "migrate", "--qmp", host.SocketPath);

        Assert.Equal(0, exit);
        Assert.Equal("Migration status: none\n", output);
    }

    [Fact]
    public async Task A_missing_socket_is_a_clear_error_with_exit_code_1()
    {
        var path = TestSocketPath.Create();

        var (exit, output, error) = await TernRun.InvokeAsync("info", "migrate", "--qmp", path);

        Assert.Equal(1, exit);
        Assert.Equal("", output);
        Assert.StartsWith($"tern: cannot connect to QMP socket {path}: ", error);
        Assert.Contains($"(is the VM running with --qmp unix:{path}?)", error);
    }

    [Fact]
    public async Task The_qmp_option_is_required()
    {
        var (exit, _, error) = await TernRun.InvokeAsync("info", "migrate");

        Assert.Equal(1, exit);
        Assert.Contains("--qmp", error);
    }
}
