using Tern.Guest;
using Xunit;

namespace Tern.Machine.Tests.Guest;

public class WorkloadSpecParsingTests
{
    private const ulong MiB = 1UL << 20;

    [Fact]
    public void Parses_each_workload_with_its_defaults()
    {
        var idle = WorkloadSpec.Parse("idle");
        Assert.Equal(WorkloadKind.Idle, idle.Kind);
        Assert.Equal(0UL, idle.WorkingSetBytes);
        Assert.Equal(WorkloadSpec.DefaultSeed, idle.Seed);
        Assert.Null(idle.RateMiBPerSecond);

        var stride = WorkloadSpec.Parse("stride");
        Assert.Equal(WorkloadKind.Stride, stride.Kind);
        Assert.Equal(16 * MiB, stride.WorkingSetBytes);

        var seq = WorkloadSpec.Parse("seq:ws=64M");
        Assert.Equal(WorkloadKind.Seq, seq.Kind);
        Assert.Equal(64 * MiB, seq.WorkingSetBytes);

        var random = WorkloadSpec.Parse("random:ws=1G,rate=200,seed=0x10");
        Assert.Equal(WorkloadKind.Random, random.Kind);
        Assert.Equal(1UL << 30, random.WorkingSetBytes);
        Assert.Equal(200.0, random.RateMiBPerSecond);
        Assert.Equal(16UL, random.Seed);

        var hotcold = WorkloadSpec.Parse("hotcold:ws=512M,hot=64M");
        Assert.Equal(WorkloadKind.HotCold, hotcold.Kind);
        Assert.Equal(64 * MiB, hotcold.HotBytes);
        Assert.Equal(0.9, hotcold.HotProbability);
    }

    [Fact]
    public void Accepts_whitespace_and_upper_case_names_and_keys()
    {
        Assert.Equal(WorkloadSpec.Parse("hotcold:ws=1G,hot=64M,p=0.5"), WorkloadSpec.Parse("  HotCold : WS=1G , Hot=64M , P=0.5 "));
    }

    [Theory]
    [InlineData("idle")]
    [InlineData("idle:rate=5,seed=9")]
    [InlineData("stride")]
    [InlineData("stride:ws=32M,rate=12.5")]
    [InlineData("seq:ws=64M")]
    [InlineData("seq:ws=12K")]
    [InlineData("seq:ws=1052672")]
    [InlineData("random:ws=1G,rate=0.25,seed=18446744073709551615")]
    [InlineData("hotcold:ws=1G,hot=64M,p=0.9")]
    [InlineData("hotcold:ws=1G,hot=64M,p=1")]
    [InlineData("hotcold:ws=1G,hot=0,p=0")]
    [InlineData("hotcold:ws=8M,hot=4K,p=0.123456789,seed=7")]
    [InlineData("compute")]
    [InlineData("compute:seed=5")]
    [InlineData("seq:ws=64M,content=mixed")]
    [InlineData("random:ws=64M,rate=3,content=mixed")]
    [InlineData("hotcold:ws=64M,hot=8M,content=mixed")]
    [InlineData("stride:content=mixed")]
    public void ToString_round_trips(string text)
    {
        var spec = WorkloadSpec.Parse(text);
        var again = WorkloadSpec.Parse(spec.ToString());
        Assert.Equal(spec, again);
        Assert.Equal(spec.ToString(), again.ToString());
    }

    [Theory]
    [InlineData("seq:ws=64M", "seq:ws=64M")]
    [InlineData("seq:ws=65536K", "seq:ws=64M")]
    [InlineData("stride:ws=16M", "stride")]
    [InlineData("hotcold:ws=1024M,hot=64M", "hotcold:ws=1G,hot=64M,p=0.9")]
    [InlineData("random:seed=1952805486,ws=4K", "random:ws=4K")]
    public void Prints_the_canonical_form(string text, string canonical) =>
        Assert.Equal(canonical, WorkloadSpec.Parse(text).ToString());

    [Theory]
    [InlineData("", "the workload is empty")]
    [InlineData("fast", "unknown workload 'fast'; expected one of idle, compute, stride, seq, fill, random, hotcold")]
    [InlineData("seq", "seq needs ws=SIZE")]
    [InlineData("seq:", "nothing after ':'")]
    [InlineData("seq:ws=12x", "ws=12x: '12x' is not a size")]
    [InlineData("seq:ws=1000", "ws=1000 is not a multiple of 4 KiB")]
    [InlineData("seq:ws=0", "ws= must be at least one 4 KiB page")]
    [InlineData("seq:ws=64M,ws=32M", "'ws=' is given twice")]
    [InlineData("seq:ws=64M,,rate=3", "an empty option")]
    [InlineData("seq:64M", "option '64M' is not key=value")]
    [InlineData("seq:ws=", "'ws=' has no value")]
    [InlineData("seq:ws=64M,hot=8M", "seq takes no 'hot=' option; it takes ws=, rate=, seed=")]
    [InlineData("idle:ws=64M", "idle takes no 'ws=' option")]
    [InlineData("hotcold:ws=64M", "hotcold needs hot=SIZE")]
    [InlineData("hotcold:ws=64M,hot=128M", "the hot set (hot=128M) is larger than the working set (ws=64M)")]
    [InlineData("hotcold:ws=64M,hot=8M,p=1.5", "p=1.5 is not a probability between 0 and 1")]
    [InlineData("hotcold:ws=64M,hot=8M,p=-0.1", "p=-0.1 is not a probability")]
    [InlineData("hotcold:ws=64M,hot=8M,p=NaN", "is not a probability")]
    [InlineData("hotcold:ws=64M,hot=8M,p=high", "p=high: 'high' is not a number")]
    [InlineData("hotcold:ws=64M,hot=0", "hot=0 leaves no hot set")]
    [InlineData("hotcold:ws=64M,hot=64M", "leaving no cold set")]
    [InlineData("random:ws=64M,rate=0", "rate=0 must be a positive number of MiB/s")]
    [InlineData("random:ws=64M,rate=-5", "must be a positive number")]
    [InlineData("random:ws=64M,rate=fast", "rate=fast: 'fast' is not a number of MiB/s")]
    [InlineData("random:ws=64M,seed=-1", "seed=-1: '-1' is not a 64-bit unsigned integer")]
    [InlineData("random:ws=64M,seed=0xZZ", "seed=0xZZ")]
    [InlineData("compute:ws=64M", "compute takes no 'ws=' option")]
    [InlineData("compute:rate=5", "compute takes no 'rate=' option")]
    [InlineData("compute:content=mixed", "compute takes no 'content=' option")]
    [InlineData("idle:content=mixed", "idle takes no 'content=' option")]
    [InlineData("seq:ws=64M,content=text", "content=text: expected sparse (one 8-byte value per write) or mixed")]
    public void Rejects_bad_specs_naming_the_bad_part(string text, string message)
    {
        var e = Assert.Throws<FormatException>(() => WorkloadSpec.Parse(text));
        Assert.Contains(message, e.Message);
        Assert.StartsWith($"workload \"{text.Trim()}\":", e.Message);
        Assert.False(WorkloadSpec.TryParse(text, out var spec, out var error));
        Assert.Null(spec);
        Assert.Equal(e.Message, error);
    }

    [Fact]
    public void With_rate_and_with_seed_validate_too()
    {
        var seq = WorkloadSpec.Seq(64 * MiB);
        Assert.Equal(10.0, seq.WithRate(10).RateMiBPerSecond);
        Assert.Null(seq.WithRate(10).WithRate(null).RateMiBPerSecond);
        Assert.Equal(5UL, seq.WithSeed(5).Seed);
        Assert.Throws<FormatException>(() => seq.WithRate(double.PositiveInfinity));
        Assert.Throws<FormatException>(() => WorkloadSpec.HotCold(64 * MiB, 8 * MiB, 2));
    }
}
