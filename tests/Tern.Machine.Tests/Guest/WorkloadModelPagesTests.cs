using Tern.Guest;
using Tern.Memory;
using Xunit;

namespace Tern.Machine.Tests.Guest;

public class WorkloadModelPagesTests
{
    [Theory]
    [InlineData("seq:ws=64K", 5UL, 40UL)]
    [InlineData("seq:ws=64K", 0UL, 1000UL)]
    [InlineData("stride:ws=64K", 3UL, 29UL)]
    [InlineData("random:ws=1M", 100UL, 400UL)]
    [InlineData("hotcold:ws=1M,hot=64K", 0UL, 3000UL)]
    public void Pages_written_are_exactly_the_pages_apply_touches(string spec, ulong from, ulong to)
    {
        var image = GuestFixtures.Build(spec, vcpus: 2);
        var model = new WorkloadModel(image.Layout!);
        byte[] ram = GuestFixtures.Ram(image);
        var dirty = new ulong[image.RamBytes / PageSize.Bytes / 64];
        model.Apply(ram, dirty, 1, from, to);

        var expected = model.PagesWritten(1, from, to);
        var control = image.Layout!.Vcpus[1].ControlPage.Page;
        var touched = new PageSet(image.RamBytes);
        for (ulong p = 0; p < touched.PageCapacity; p++)
            if ((dirty[p / 64] & (1UL << (int)(p % 64))) != 0 && p != control.Value) touched.Add(new PageIndex(p));
        Assert.Equal(expected.ToArray(), touched.ToArray());
        Assert.True((dirty[control.Value / 64] & (1UL << (int)(control.Value % 64))) != 0, "the counter store dirties the control page");
        Assert.All(expected, p => Assert.Equal(1, image.Layout.OwnerOf(p)));
    }

    [Theory]
    [InlineData("seq:ws=64K", 40UL)]
    [InlineData("seq:ws=64K", 4000UL)]
    [InlineData("stride:ws=64K", 30UL)]
    [InlineData("random:ws=1M", 300UL)]
    [InlineData("random:ws=1M", 100_000UL)]
    [InlineData("hotcold:ws=1M,hot=64K", 3000UL)]
    public void Expected_working_set_is_the_set_of_pages_holding_data(string spec, ulong counter)
    {
        var image = GuestFixtures.Build(spec, vcpus: 2);
        var model = new WorkloadModel(image.Layout!);
        byte[] ram = GuestFixtures.Ram(image);
        model.Apply(ram, 0, 0, counter);
        model.Apply(ram, 1, 0, counter / 2);

        var ws = image.Layout!.WorkingSet;
        var nonZero = new PageSet(image.RamBytes);
        for (ulong p = 0; p < ws.PageCount; p++)
            if (ram.AsSpan((int)(ws.Start.Value + p * 4096), 4096).ContainsAnyExcept((byte)0))
                nonZero.Add(new PageIndex(ws.FirstPage.Value + p));
        var expected = model.ExpectedWorkingSet([counter, counter / 2]);
        Assert.Equal(nonZero.ToArray(), expected.ToArray());
        Assert.True(expected.IsSubsetOf(nonZero) && nonZero.IsSubsetOf(expected));
    }

    [Fact]
    public void A_range_longer_than_a_pass_covers_the_whole_slice()
    {
        var layout = GuestFixtures.Build("seq:ws=64K", vcpus: 2).Layout!;
        var model = new WorkloadModel(layout);
        var pages = model.PagesWritten(0, 3, 3 + 8);
        Assert.Equal(layout.Vcpus[0].Slice.RegionAPages, pages.Count);
        Assert.Equal(0UL, model.PagesWritten(0, 5, 5).Count);
    }
}
