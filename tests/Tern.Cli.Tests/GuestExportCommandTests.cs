using Tern.Guest;
using Tern.Guest.Multiboot;
using Xunit;

namespace Tern.Cli.Tests;

public sealed class GuestExportCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tern-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Export_writes_a_multiboot_file_that_loads_back_as_the_same_workload()
    {
        string path = Path.Combine(_dir, "guest.elf");
        var (exit, output, error) = CliRunner.Run("guest", "export", "--workload", "random:ws=16M,rate=50", "--memory", "64M", "--tsc-khz", "2500000", "-o", path);
        Assert.Equal(0, exit);
        Assert.Equal("", error);
        Assert.Contains("random:ws=16M,rate=50, 1 vCPU, built for 64 MiB of RAM, TSC 2500000 kHz", output);

        var image = MultibootImage.Load(File.ReadAllBytes(path), 64UL << 20);
        Assert.Equal(WorkloadSpec.Parse("random:ws=16M,rate=50"), image.Workload);
        var parameters = image.Blobs.Single(b => b.Address.Value == GuestLayout.SystemBase).Bytes.Span[ParameterBlock.TscKhz..];
        Assert.Equal(2_500_000UL, BitConverter.ToUInt64(parameters[..8]));
    }

    [Fact]
    public void Export_defaults_to_one_vcpu_256M_and_the_host_tsc()
    {
        string path = Path.Combine(_dir, "idle.elf");
        var (exit, output, _) = CliRunner.Run("guest", "export", "-w", "idle", "-o", path);
        Assert.Equal(0, exit);
        Assert.Contains($"built for 256 MiB of RAM, TSC {TscFrequency.HostKhzOrFallback()} kHz", output);
        Assert.Equal(WorkloadKind.Idle, MultibootImage.Load(File.ReadAllBytes(path), 256UL << 20).Workload!.For(0).Kind);
    }

    [Theory]
    [InlineData(new[] { "--workload", "seq:ws=64M", "--vcpus", "2" }, "--vcpus 2: the exported image boots one vCPU; starting application processors needs INIT-SIPI")]
    [InlineData(new[] { "--workload", "seq" }, "workload \"seq\": seq needs ws=SIZE")]
    [InlineData(new[] { "--workload", "seq:ws=1G", "--memory", "512M" }, "does not fit in 512 MiB of RAM")]
    [InlineData(new[] { "--workload", "seq:ws=64M", "--memory", "4G" }, "an exported image can use at most 2G")]
    [InlineData(new[] { "--workload", "seq:ws=64M", "--memory", "lots" }, "--memory: 'lots' is not a size")]
    [InlineData(new[] { "--workload", "seq:ws=64M", "--tsc-khz", "2400" }, "TSC frequency 2400 kHz is not plausible")]
    public void Export_explains_what_is_wrong(string[] args, string message)
    {
        string path = Path.Combine(_dir, "bad.elf");
        var (exit, output, error) = CliRunner.Run(["guest", "export", .. args, "-o", path]);
        Assert.Equal(2, exit);
        Assert.Equal("", output);
        Assert.StartsWith("tern guest export: ", error);
        Assert.Contains(message, error);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Help_says_the_export_has_one_vcpu_and_why()
    {
        var (_, output, _) = CliRunner.Run("guest", "export", "--help");
        Assert.Contains("INIT-SIPI", output);
        Assert.Contains("--workload", output);
        Assert.Contains("--tsc-khz", output);
    }
}
