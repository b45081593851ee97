using Tern.Control.DirtyRate;
using Tern.Control.Tests.Support;

namespace Tern.Cli.Tests;

public sealed class InfoDirtyRateCommandTests
{
    [Fact]
    public async Task It_starts_a_measurement_waits_for_it_and_prints_it_like_QEMU_info_dirty_rate()
    {
        await using var host = QmpTestHost.Start();
        host.Vm.DirtyRate = new DirtyRateInfo(DirtyRateStatus.Measured, DirtyRateMode.PageSampling, 1_765_000_000, 1, 1024,
            DirtyRateMib: 16, SampledPages: 1024, ChangedPages: 16, DirtyPages: 4096, WindowMs: 1003, StandardErrorMib: 3.96);

        var (exit, output, error) = await TernRun.InvokeAsync("info", "dirty-rate", "--qmp", host.SocketPath, "--sample-pages", "1024");

        Assert.Equal(0, exit);
        Assert.Equal("", error);
        Assert.Equal(["calc-dirty-rate:1:1024:page-sampling"], host.Vm.Calls);
        Assert.Equal("""
            Status: measured
            Start Time: 1765000000 (s)
            Sample Pages: 1024 (per GB)
            Period: 1 (sec)
            Mode: page-sampling
            Dirty rate: 16 (MB/s)
            Measured by page sampling (no dirty tracking): 16 of 1024 sampled pages changed in 1003 ms; standard error 4.0 MB/s

            """, output);
    }

    [Theory]
    [InlineData(new[] { "--calc-time", "0" }, "tern: --calc-time 0 is out of range: the measurement window is 1 to 60 seconds")]
    [InlineData(new[] { "--sample-pages", "5000" }, "tern: --sample-pages 5000 is out of range: 128 to 4096 pages per GiB of guest RAM (default 512)")]
    [InlineData(new[] { "--mode", "dirty-log" }, "tern: --mode 'dirty-log' is not a mode (page-sampling, dirty-bitmap, dirty-ring)")]
    public async Task Bad_options_are_named_and_nothing_is_sent(string[] options, string message)
    {
        await using var host = QmpTestHost.Start();

        var (exit, output, error) = await TernRun.InvokeAsync(["info", "dirty-rate", "--qmp", host.SocketPath, .. options]);

        Assert.Equal(2, exit);
        Assert.Equal("", output);
        Assert.Equal(message, error.TrimEnd());
        Assert.Empty(host.Vm.Calls);
    }
}
