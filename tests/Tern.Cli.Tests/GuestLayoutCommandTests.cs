using Xunit;

namespace Tern.Cli.Tests;

public class GuestLayoutCommandTests
{
    [Fact]
    public void Layout_lists_the_regions_and_each_vcpu_slice()
    {
        var (exit, output, error) = CliRunner.Run("guest", "layout", "-w", "hotcold:ws=64M,hot=8M", "--vcpus", "2", "-m", "256M");
        Assert.Equal(0, exit);
        Assert.Equal("", error);
        Assert.Contains("hotcold:ws=64M,hot=8M,p=0.9: 2 vCPU(s), 256 MiB of RAM", output);
        Assert.Contains("working-set", output);
        Assert.Contains("control[1]", output);
        Assert.Contains("vCPU 1: control 0x", output);
        Assert.Contains("writes 1024 pages at 0x600000 and 7168 pages at 0x2600000", output);
    }

    [Fact]
    public void Layout_rejects_an_impossible_guest()
    {
        var (exit, _, error) = CliRunner.Run("guest", "layout", "-w", "seq:ws=8K", "--vcpus", "3");
        Assert.Equal(2, exit);
        Assert.Contains("cannot give each of 3 vCPUs a page", error);
    }
}
