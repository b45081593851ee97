using Tern.Migration.Xbzrle;
using Tern.Os;
using Xunit;

namespace Tern.Migration.Tests.Xbzrle;

/// <summary>The default memory budget is a quarter of MemAvailable; an explicit budget wins; /proc/meminfo parses.</summary>
public class MemoryBudgetTests
{
    private const string Meminfo = """
        MemTotal:       24576000 kB
        MemFree:        20000000 kB
        MemAvailable:   16777216 kB
        Buffers:           10000 kB
        Cached:          3000000 kB
        HugePages_Total:       0
        """;

    [Fact]
    public void ParsesMeminfo()
    {
        var info = HostMemoryInfo.Parse(Meminfo);
        Assert.Equal(24576000UL * 1024, info.TotalBytes);
        Assert.Equal(16777216UL * 1024, info.AvailableBytes);
        Assert.Equal(20000000UL * 1024, info.FreeBytes);
    }

    [Fact]
    public void OldKernelsWithoutMemAvailableUseMemFree()
    {
        var info = HostMemoryInfo.Parse("MemTotal: 1000 kB\nMemFree: 400 kB\n");
        Assert.Equal(400UL * 1024, info.AvailableBytes);
    }

    [Fact]
    public void BadMeminfoIsNamed()
    {
        var e = Assert.Throws<FormatException>(() => HostMemoryInfo.Parse("MemFree: 400 kB\n", "/tmp/x"));
        Assert.Contains("/tmp/x", e.Message);
        Assert.Contains("MemTotal", e.Message);
        Assert.Throws<FormatException>(() => HostMemoryInfo.Parse("MemTotal: lots kB\nMemFree: 1 kB\n"));
    }

    [Fact]
    public void ReadsThisHost()
    {
        var info = HostMemoryInfo.Read();
        Assert.True(info.TotalBytes > 0 && info.AvailableBytes <= info.TotalBytes);
    }

    [Fact]
    public void DefaultIsAQuarterOfAvailable()
    {
        var budget = MemoryBudget.Default(HostMemoryInfo.Parse(Meminfo));
        Assert.Equal(16777216UL * 1024 / 4, budget.Bytes);
        Assert.Equal("memory budget 4 GiB: a quarter of 16 GiB available on the host", budget.Reason);
    }

    [Fact]
    public void ExplicitBudgetWins()
    {
        var host = HostMemoryInfo.Parse(Meminfo);
        Assert.Equal(123UL << 20, MemoryBudget.Resolve(123UL << 20, host).Bytes);
        Assert.Equal(MemoryBudget.Default(host), MemoryBudget.Resolve(0, host));
    }
}
