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
        Assert.Contains("vCPU 1: hotcold:ws=64M,hot=8M,p=0.9, control 0x", output);
        Assert.Contains("writes 1024 pages at 0x600000 and 7168 pages at 0x2600000", output);
    }

    [Fact]
    public void Layout_shows_each_vcpus_own_workload_and_working_set()
    {
        var (exit, output, error) = CliRunner.Run("guest", "layout", "-w", "seq:ws=16M;compute", "--vcpus", "2", "-m", "64M");
        Assert.Equal(0, exit);
        Assert.Equal("", error);
        Assert.Contains("vCPU 0: seq:ws=16M, control 0x", output);
        Assert.Contains("writes 4096 pages at 0x200000", output);
        Assert.Contains("vCPU 1: compute, control 0x", output);
        Assert.Contains("writes 0 pages", output);
    }

    [Fact]
    public void Layout_rejects_a_per_vcpu_workload_for_another_number_of_vcpus()
    {
        var (exit, _, error) = CliRunner.Run("guest", "layout", "-w", "seq:ws=16M;compute", "--vcpus", "3");
        Assert.Equal(2, exit);
        Assert.Contains("gives 2 vCPUs their own workloads but the guest has 3 vCPUs", error);
    }

    [Fact]
    public void Layout_rejects_an_impossible_guest()
    {
        var (exit, _, error) = CliRunner.Run("guest", "layout", "-w", "seq:ws=8K", "--vcpus", "3");
        Assert.Equal(2, exit);
        Assert.Contains("cannot give each of 3 vCPUs a page", error);
    }
}
