using Tern.Control.Tests.Support;
using Tern.Migration.Throttle;

namespace Tern.Cli.Tests;

public sealed class InfoVcpuDirtyLimitCommandTests
{
    [Fact]
    public async Task It_prints_each_limited_vcpu_like_QEMU_info_vcpu_dirty_limit()
    {
        await using var host = QmpTestHost.Start();
        host.Vm.DirtyLimits = [new VcpuDirtyLimit(0, 4, 5), new VcpuDirtyLimit(2, 100, 0)];

        var (exit, output, error) = await TernRun.InvokeAsync("info", "vcpu-dirty-limit", "--qmp", host.SocketPath);

        Assert.Equal(0, exit);
        Assert.Equal("", error);
        Assert.Equal("""
            vcpu[0], limit rate 4 (MB/s), current rate 5 (MB/s)
            vcpu[2], limit rate 100 (MB/s), current rate 0 (MB/s)

            """, output);
    }

    [Fact]
    public async Task Without_limits_it_says_so_as_QEMU_does()
    {
        await using var host = QmpTestHost.Start();
        var (exit, output, _) = await TernRun.InvokeAsync("info", "vcpu-dirty-limit", "--qmp", host.SocketPath);
        Assert.Equal(0, exit);
        Assert.Equal("Dirty page limit not enabled!\n", output);
    }
}
