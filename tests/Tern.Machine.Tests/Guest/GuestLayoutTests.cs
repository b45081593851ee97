using Tern.Guest;
using Tern.Memory;
using Xunit;

namespace Tern.Machine.Tests.Guest;

public class GuestLayoutTests
{
    private const ulong MiB = 1UL << 20;

    public static TheoryData<string, ulong, int> Layouts => new()
    {
        { "idle", 64 * MiB, 1 },
        { "idle", 64 * MiB, 64 },
        { "stride", 64 * MiB, 3 },
        { "seq:ws=16M", 64 * MiB, 1 },
        { "seq:ws=1G", 2048 * MiB, 7 },
        { "random:ws=100M", 1024 * MiB + 2 * MiB, 5 },
        { "hotcold:ws=64M,hot=8M", 128 * MiB, 4 },
        { "hotcold:ws=64M,hot=8M,p=1", 128 * MiB, 64 },
    };

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Regions_are_page_aligned_inside_ram_and_do_not_overlap(string spec, ulong ram, int vcpus)
    {
        var layout = GuestLayout.Compute(WorkloadSpec.Parse(spec), ram, vcpus);
        foreach (var r in layout.Regions)
        {
            Assert.True(r.Start.IsPageAligned, $"{r} is not page-aligned");
            Assert.True(r.Length % PageSize.Bytes == 0, $"{r} is not a whole number of pages");
            Assert.True(r.End.Value <= ram, $"{r} ends beyond RAM");
            Assert.True(r.Start.Value >= GuestLayout.SystemBase, $"{r} is below 1 MiB");
        }
        for (int i = 0; i < layout.Regions.Count; i++)
            for (int j = i + 1; j < layout.Regions.Count; j++)
                Assert.False(layout.Regions[i].Overlaps(layout.Regions[j]), $"{layout.Regions[i]} overlaps {layout.Regions[j]}");
        Assert.Equal(0UL, layout.WorkingSet.Start.Value % GuestLayout.LargePageBytes);
        Assert.True(layout.Regions.Where(r => r.Name != "working-set").All(r => r.End <= layout.WorkingSet.Start));
        Assert.Equal(layout.WorkingSet.Start.Value, layout.ReservedArea.Length);
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Slices_are_disjoint_and_cover_the_working_set(string spec, ulong ram, int vcpus)
    {
        var layout = GuestLayout.Compute(WorkloadSpec.Parse(spec), ram, vcpus);
        var owner = new Dictionary<ulong, int>();
        foreach (var v in layout.Vcpus)
        {
            var s = v.Slice;
            foreach (var (start, pages) in new[] { (s.RegionABase, s.RegionAPages), (s.RegionBBase, s.RegionBPages) })
                for (ulong p = 0; p < pages; p++)
                {
                    ulong page = start.Page.Value + p;
                    Assert.True(layout.WorkingSet.Contains(new PageIndex(page)), $"vCPU {v.Index} writes page {page} outside the working set");
                    Assert.True(owner.TryAdd(page, v.Index), $"page {page} belongs to vCPU {owner.GetValueOrDefault(page)} and vCPU {v.Index}");
                }
        }
        Assert.Equal(layout.WorkingSet.PageCount, (ulong)owner.Count);
        foreach (var (page, v) in owner) Assert.Equal(v, layout.OwnerOf(new PageIndex(page)));
        Assert.Equal(-1, layout.OwnerOf(layout.Vcpus[0].ControlPage.Page));
    }

    [Fact]
    public void Hotcold_puts_the_hot_set_first_and_splits_both_sets_across_vcpus()
    {
        var layout = GuestLayout.Compute(WorkloadSpec.Parse("hotcold:ws=64M,hot=8M"), 128 * MiB, 2);
        var ws = layout.WorkingSet.Start;
        Assert.Equal(ws, layout.Vcpus[0].Slice.RegionABase);
        Assert.Equal(1024UL, layout.Vcpus[0].Slice.RegionAPages);
        Assert.Equal(ws.Add(4 * MiB), layout.Vcpus[1].Slice.RegionABase);
        Assert.Equal(ws.Add(8 * MiB), layout.Vcpus[0].Slice.RegionBBase);
        Assert.Equal(7168UL, layout.Vcpus[0].Slice.RegionBPages);
        Assert.Equal(ws.Add(36 * MiB), layout.Vcpus[1].Slice.RegionBBase);
    }

    [Fact]
    public void Every_vcpu_has_its_own_control_page_stacks_and_tss()
    {
        var layout = GuestLayout.Compute(WorkloadSpec.Parse("seq:ws=16M"), 64 * MiB, 4);
        Assert.Equal(4, layout.Vcpus.Select(v => v.ControlPage).Distinct().Count());
        Assert.Equal(4, layout.Vcpus.Select(v => v.KernelStack).Distinct().Count());
        Assert.Equal(4, layout.Vcpus.Select(v => v.Stack.Start).Distinct().Count());
        Assert.Equal(4, layout.Vcpus.Select(v => v.Tss).Distinct().Count());
        Assert.Equal([0x28, 0x38, 0x48, 0x58], layout.Vcpus.Select(v => (int)v.TssSelector));
        foreach (var v in layout.Vcpus)
        {
            Assert.Contains(layout.WrittenOutsideWorkingSet, r => r.Contains(v.ControlPage));
            Assert.Contains(layout.WrittenOutsideWorkingSet, r => r.Contains(v.KernelStack));
            Assert.Contains(layout.WrittenOutsideWorkingSet, r => r.Contains(v.Stack.Start));
            Assert.True(layout.IsWrittenOutsideWorkingSet(v.ControlPage.Page));
        }
        Assert.True(layout.IsWrittenOutsideWorkingSet(layout.Pml4.Page));
        Assert.True(layout.IsWrittenOutsideWorkingSet(layout.Gdt.Page));
        Assert.False(layout.IsWrittenOutsideWorkingSet(layout.Code.Page));
        Assert.False(layout.IsWrittenOutsideWorkingSet(layout.Idt.Page));
    }

    [Fact]
    public void Uneven_splits_differ_by_at_most_one_page()
    {
        var layout = GuestLayout.Compute(WorkloadSpec.Parse("random:ws=40K"), 64 * MiB, 3);
        Assert.Equal([3UL, 3UL, 4UL], layout.Vcpus.Select(v => v.Slice.RegionAPages));
    }

    [Theory]
    [InlineData("seq:ws=64M", 63 * MiB, 1, "is not a multiple of 2 MiB")]
    [InlineData("seq:ws=64M", 64 * MiB, 1, "the working set (64 MiB) does not fit in 64 MiB of RAM")]
    [InlineData("seq:ws=64M", 64 * MiB, 1, "give the guest at least 66M of RAM")]
    [InlineData("seq:ws=16M", 64 * MiB, 0, "0 vCPUs")]
    [InlineData("seq:ws=16M", 64 * MiB, 65, "between 1 and 64")]
    [InlineData("seq:ws=8K", 64 * MiB, 3, "cannot give each of 3 vCPUs a page; use ws=12K or more")]
    [InlineData("hotcold:ws=64M,hot=4K", 128 * MiB, 2, "the hot set (1 page) cannot give each of 2 vCPUs a page")]
    [InlineData("hotcold:ws=12K,hot=8K", 128 * MiB, 2, "the cold set (1 page) cannot give each of 2 vCPUs a page")]
    [InlineData("seq:ws=16M", 1024UL * 1024 * MiB, 1, "more than the 512 GiB")]
    public void Rejects_impossible_requests(string spec, ulong ram, int vcpus, string message)
    {
        var e = Assert.Throws<GuestConfigurationException>(() => GuestLayout.Compute(WorkloadSpec.Parse(spec), ram, vcpus));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Hot_set_may_be_tiny_when_no_write_goes_there()
    {
        var layout = GuestLayout.Compute(WorkloadSpec.Parse("hotcold:ws=64M,hot=4K,p=0"), 128 * MiB, 2);
        Assert.Equal(0UL, layout.Vcpus[0].Slice.RegionAPages);
        Assert.Equal(1UL, layout.Vcpus[1].Slice.RegionAPages);
    }
}
