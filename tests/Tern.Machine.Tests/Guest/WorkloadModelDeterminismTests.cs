using System.Buffers.Binary;
using Tern.Guest;
using Xunit;

namespace Tern.Machine.Tests.Guest;

public class WorkloadModelDeterminismTests
{
    public static TheoryData<string, int> Workloads => new()
    {
        { "stride:ws=64K", 2 },
        { "seq:ws=64K", 2 },
        { "random:ws=64K", 2 },
        { "hotcold:ws=64K,hot=16K,p=0.75", 2 },
    };

    [Theory]
    [MemberData(nameof(Workloads))]
    public void Applying_in_chunks_equals_applying_at_once(string spec, int vcpus)
    {
        var image = GuestFixtures.Build(spec, vcpus: vcpus);
        var model = new WorkloadModel(image.Layout!);
        byte[] once = GuestFixtures.Ram(image);
        byte[] chunked = GuestFixtures.Ram(image);
        for (int v = 0; v < vcpus; v++)
        {
            model.Apply(once, v, 0, 5000);
            foreach (var (from, to) in new[] { (0UL, 1UL), (1UL, 17UL), (17UL, 17UL), (17UL, 4096UL), (4096UL, 5000UL) })
                model.Apply(chunked, v, from, to);
        }
        Assert.Equal(once, chunked);
        Assert.Equal([5000UL, 5000UL], model.ReadCounters(once));
    }

    [Theory]
    [MemberData(nameof(Workloads))]
    public void Write_targets_are_pure_functions_of_vcpu_and_index(string spec, int vcpus)
    {
        var layout = GuestFixtures.Build(spec, vcpus: vcpus).Layout!;
        var a = new WorkloadModel(layout);
        var b = new WorkloadModel(GuestFixtures.Build(spec, vcpus: vcpus).Layout!);
        for (int v = 0; v < vcpus; v++)
            for (ulong i = 0; i < 2000; i += 7)
            {
                Assert.Equal(a.WriteTarget(v, i), b.WriteTarget(v, i));
                Assert.Equal(v, layout.OwnerOf(a.WriteTarget(v, i).Page));
            }
        // Asking out of order gives the same answer as asking in order.
        Assert.Equal(a.WriteTarget(1, 123_456_789), b.WriteTarget(1, 123_456_789));
    }

    [Fact]
    public void Applied_writes_land_where_write_target_says_with_the_documented_value()
    {
        var image = GuestFixtures.Build("random:ws=64K", vcpus: 2);
        var model = new WorkloadModel(image.Layout!);
        for (ulong i = 0; i < 200; i++)
        {
            byte[] ram = GuestFixtures.Ram(image);
            model.Apply(ram, 1, i, i + 1);
            var target = model.WriteTarget(1, i);
            Assert.Equal(0UL, target.Value % 512);
            ulong value = BinaryPrimitives.ReadUInt64LittleEndian(ram.AsSpan((int)target.Value));
            Assert.Equal((i + 1) ^ (2UL << 56), value);
            Assert.Equal(value, model.WriteValue(1, i));
        }
    }

    [Fact]
    public void Different_seeds_give_different_targets_and_the_seed_does_not_move_seq()
    {
        var one = new WorkloadModel(GuestFixtures.Build("random:ws=16M,seed=1").Layout!);
        var two = new WorkloadModel(GuestFixtures.Build("random:ws=16M,seed=2").Layout!);
        int same = Enumerable.Range(0, 1000).Count(i => one.WriteTarget(0, (ulong)i) == two.WriteTarget(0, (ulong)i));
        Assert.True(same < 20, $"{same} of 1000 targets agree across seeds");
        var seq1 = new WorkloadModel(GuestFixtures.Build("seq:ws=16M,seed=1").Layout!);
        var seq2 = new WorkloadModel(GuestFixtures.Build("seq:ws=16M,seed=2").Layout!);
        Assert.Equal(seq1.WriteTarget(0, 99_999), seq2.WriteTarget(0, 99_999));
    }

    [Fact]
    public void Seq_walks_the_pages_in_order_and_moves_to_the_next_slot_each_pass()
    {
        var layout = GuestFixtures.Build("seq:ws=16K").Layout!;
        var model = new WorkloadModel(layout);
        ulong ws = layout.WorkingSet.Start.Value;
        ulong[] expected = [ws, ws + 4096, ws + 8192, ws + 12288, ws + 512, ws + 4096 + 512];
        Assert.Equal(expected, Enumerable.Range(0, 6).Select(i => model.WriteTarget(0, (ulong)i).Value));
        Assert.Equal(ws, model.WriteTarget(0, 32).Value); // 8 passes later, back to slot 0
    }

    [Fact]
    public void Stride_increments_every_1024th_byte_over_and_over()
    {
        var image = GuestFixtures.Build("stride:ws=8K");
        var model = new WorkloadModel(image.Layout!);
        byte[] ram = GuestFixtures.Ram(image);
        model.Apply(ram, 0, 0, 8 * 300 + 3);
        var ws = ram.AsSpan((int)image.Layout!.WorkingSet.Start.Value, 8192);
        for (int k = 0; k < 8; k++)
            Assert.Equal((byte)(300 + (k < 3 ? 1 : 0)), ws[k * 1024]);
        Assert.Equal(8, ws.ToArray().Count(b => b != 0));
    }

    [Fact]
    public void Hotcold_sends_about_p_of_the_writes_to_the_hot_set()
    {
        var layout = GuestFixtures.Build("hotcold:ws=16M,hot=1M,p=0.9").Layout!;
        var model = new WorkloadModel(layout);
        var hot = new Tern.Guest.GuestRegion("hot", layout.WorkingSet.Start, 1UL << 20);
        int hits = Enumerable.Range(0, 100_000).Count(i => hot.Contains(model.WriteTarget(0, (ulong)i)));
        Assert.InRange(hits, 89_000, 91_000);
    }

    [Fact]
    public void Apply_rejects_a_backwards_range_and_an_unknown_vcpu()
    {
        var image = GuestFixtures.Build("seq:ws=16M");
        var model = new WorkloadModel(image.Layout!);
        byte[] ram = GuestFixtures.Ram(image);
        Assert.Throws<ArgumentException>(() => model.Apply(ram, 0, 10, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Apply(ram, 1, 0, 5));
        Assert.Throws<InvalidOperationException>(() => new WorkloadModel(GuestFixtures.Build("idle").Layout!).WriteTarget(0, 0));
    }
}
