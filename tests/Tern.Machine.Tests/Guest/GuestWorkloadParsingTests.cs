using Tern.Guest;
using Tern.Memory;
using Xunit;

namespace Tern.Machine.Tests.Guest;

/// <summary>Per-vCPU workloads: <c>spec;spec;...</c>, one entry per vCPU.</summary>
public class GuestWorkloadParsingTests
{
    private const ulong MiB = 1UL << 20;

    [Fact]
    public void A_single_spec_is_shared_by_every_vcpu()
    {
        var w = GuestWorkload.Parse("seq:ws=64M");
        Assert.False(w.IsPerVcpu);
        Assert.Equal(WorkloadSpec.Parse("seq:ws=64M"), w.For(0));
        Assert.Equal(WorkloadSpec.Parse("seq:ws=64M"), w.For(3));
        Assert.Equal(64 * MiB, w.WorkingSetBytes);
    }

    [Fact]
    public void A_list_gives_each_vcpu_its_own_workload_and_working_set()
    {
        var w = GuestWorkload.Parse(" seq:ws=256M ; compute ");
        Assert.True(w.IsPerVcpu);
        Assert.Equal(WorkloadKind.Seq, w.For(0).Kind);
        Assert.Equal(WorkloadKind.Compute, w.For(1).Kind);
        Assert.Equal(256 * MiB, w.WorkingSetBytes);
        Assert.Equal("seq:ws=256M;compute", w.ToString());
    }

    [Theory]
    [InlineData("seq:ws=64M")]
    [InlineData("seq:ws=256M;compute")]
    [InlineData("compute;random:ws=16M,rate=5,content=mixed;idle")]
    [InlineData("hotcold:ws=64M,hot=8M;stride:ws=4M")]
    public void ToString_round_trips(string text)
    {
        var w = GuestWorkload.Parse(text);
        var again = GuestWorkload.Parse(w.ToString());
        Assert.Equal(w, again);
        Assert.Equal(w.ToString(), again.ToString());
    }

    [Theory]
    [InlineData("seq:ws=64M;", "the entry for vCPU 1 is empty")]
    [InlineData(";compute", "the entry for vCPU 0 is empty")]
    [InlineData("seq:ws=64M;;compute", "the entry for vCPU 1 is empty")]
    [InlineData("seq:ws=64M;bogus", "vCPU 1: workload \"bogus\": unknown workload 'bogus'; expected one of idle, compute")]
    [InlineData("seq;compute", "vCPU 0: workload \"seq\": seq needs ws=SIZE")]
    public void Rejects_a_bad_list_naming_the_vcpu_and_the_problem(string text, string message)
    {
        var e = Assert.Throws<FormatException>(() => GuestWorkload.Parse(text));
        Assert.Contains(message, e.Message);
        Assert.False(GuestWorkload.TryParse(text, out _, out string? error));
        Assert.Equal(e.Message, error);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void A_list_must_have_one_entry_per_vcpu(int vcpus)
    {
        var e = Assert.Throws<GuestConfigurationException>(() => GuestLayout.Compute(GuestWorkload.Parse("seq:ws=16M;compute"), 64 * MiB, vcpus));
        Assert.Contains($"gives 2 vCPUs their own workloads but the guest has {vcpus} vCPUs", e.Message);
    }

    [Fact]
    public void Per_vcpu_working_sets_lie_end_to_end_in_vcpu_order()
    {
        var layout = GuestLayout.Compute(GuestWorkload.Parse("seq:ws=16M;compute;hotcold:ws=8M,hot=2M"), 64 * MiB, 3);
        ulong ws = layout.WorkingSet.Start.Value;
        Assert.Equal(24 * MiB, layout.WorkingSet.Length);
        var v0 = layout.Vcpus[0].Slice;
        Assert.Equal(ws, v0.RegionABase.Value);
        Assert.Equal(16 * MiB / PageSize.Bytes, v0.RegionAPages);
        Assert.Equal(0UL, layout.Vcpus[1].Slice.Pages);
        var v2 = layout.Vcpus[2].Slice;
        Assert.Equal(ws + 16 * MiB, v2.RegionABase.Value);
        Assert.Equal(2 * MiB / PageSize.Bytes, v2.RegionAPages);
        Assert.Equal(ws + 18 * MiB, v2.RegionBBase.Value);
        Assert.Equal(6 * MiB / PageSize.Bytes, v2.RegionBPages);
        Assert.Equal(WorkloadKind.Compute, layout.Vcpus[1].Workload.Kind);
        Assert.Equal(2, layout.OwnerOf(new GuestAddress(ws + 20 * MiB).Page));
        Assert.Equal(0, layout.OwnerOf(new GuestAddress(ws).Page));
    }

    [Fact]
    public void A_per_vcpu_working_set_too_big_for_ram_is_refused_with_the_sizes()
    {
        var e = Assert.Throws<GuestConfigurationException>(() => GuestLayout.Compute(GuestWorkload.Parse("seq:ws=40M;seq:ws=40M"), 64 * MiB, 2));
        Assert.Contains("does not fit in 64 MiB of RAM", e.Message);
    }

    [Fact]
    public void A_long_list_fits_the_parameter_block_and_the_banner_is_cut_short_to_fit()
    {
        string text = string.Join(';', Enumerable.Range(0, 32).Select(v => v % 2 == 0 ? "seq:ws=64K,content=mixed" : "compute"));
        var image = GuestImageBuilder.Build(GuestWorkload.Parse(text), 64 * MiB, new GuestBuildOptions(32, GuestFixtures.TscKhz));
        var parameters = GuestFixtures.Blob(image, "parameters").Bytes.Span;
        int length = (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(parameters[ParameterBlock.SpecLength..]);
        Assert.Equal(text, System.Text.Encoding.ASCII.GetString(parameters.Slice(ParameterBlock.Spec, length)));
        string banner = GuestImageBuilder.Banner(image.Workload!, 32);
        Assert.True(banner.Length <= ParameterBlock.BannerCapacity);
        Assert.EndsWith("... vcpus=32\n", banner);
    }

    [Fact]
    public void A_list_too_long_for_the_guest_to_carry_is_refused()
    {
        string entry = "hotcold:ws=64K,hot=8K,p=0.123456789,rate=12.345,seed=123456789,content=mixed";
        var e = Assert.Throws<FormatException>(() => GuestWorkload.Parse(string.Join(';', Enumerable.Repeat(entry, 64))));
        Assert.Contains($"characters long, over the {GuestWorkload.MaxTextLength} a guest can carry", e.Message);
    }
}
