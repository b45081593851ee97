using Tern.Memory;
using Tern.Memory.DirtyRate;

namespace Tern.Kvm.Tests.Memory;

/// <summary>Page sampling over real guest RAM (a memfd): it sees exactly the sampled pages that changed, and never allocates a hole.</summary>
public sealed class PageSampleTests
{
    [Fact]
    public void It_counts_exactly_the_sampled_pages_that_changed()
    {
        using var ram = GuestRam.Create(16 << 20);
        for (ulong p = 0; p < ram.PageCount; p++) ram.GetPageSpan(new PageIndex(p))[7] = (byte)(p | 1);
        var sample = PageSample.Take(ram, 1000, new Random(5));

        Assert.Equal(0, sample.CountChanged());
        for (int i = 0; i < 37; i++) ram.GetPageSpan(sample.Pages[i * 20])[4095] ^= 0xFF;
        // A page outside the sample changes nothing.
        var outside = Enumerable.Range(0, (int)ram.PageCount).Select(p => new PageIndex((ulong)p)).First(p => !sample.Pages.Contains(p));
        ram.GetPageSpan(outside)[0] ^= 1;

        Assert.Equal(37, sample.CountChanged());
        Assert.Equal(37, sample.CountChanged()); // against the sample's first hashes, not the last look
    }

    [Fact]
    public void Pages_are_distinct_sorted_and_uniform_enough_to_reach_every_part_of_RAM()
    {
        using var ram = GuestRam.Create(64 << 20);
        var sample = PageSample.Take(ram, 4096, new Random(11));

        Assert.Equal(4096, sample.Count);
        Assert.Equal(sample.Pages.Distinct().Count(), sample.Count);
        Assert.Equal(sample.Pages.Order(), sample.Pages);
        // 16 equal parts of RAM, 256 expected in each: uniform draws land 200-312 with overwhelming odds.
        foreach (var part in sample.Pages.GroupBy(p => p.Value * 16 / ram.PageCount))
            Assert.InRange(part.Count(), 180, 340);
        Assert.Equal(16, sample.Pages.Select(p => p.Value * 16 / ram.PageCount).Distinct().Count());

        var everything = PageSample.Take(ram, (int)ram.PageCount, new Random(1));
        Assert.Equal(Enumerable.Range(0, (int)ram.PageCount).Select(p => (ulong)p), everything.Pages.Select(p => p.Value));
    }

    [Fact]
    public void Never_touched_pages_are_not_read_and_count_once_written()
    {
        using var ram = GuestRam.Create(64 << 20);
        var sample = PageSample.Take(ram, 2048, new Random(3));

        Assert.Equal(0, sample.CountChanged());
        Assert.Empty(ram.PopulatedRanges()); // hashing allocated nothing

        ram.GetPageSpan(sample.Pages[100])[0] = 1;
        ram.GetPageSpan(sample.Pages[900])[0] = 0; // a touched page that still holds zeros has not changed
        Assert.Equal(1, sample.CountChanged());
    }

    [Fact]
    public void A_sample_larger_than_RAM_is_refused()
    {
        using var ram = GuestRam.Create(1 << 20);
        Assert.Throws<ArgumentOutOfRangeException>(() => PageSample.Take(ram, 257, new Random(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => PageSample.Take(ram, 0, new Random(1)));
    }
}
