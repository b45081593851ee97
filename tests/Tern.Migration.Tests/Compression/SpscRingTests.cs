using Tern.Migration.Compression;
using Xunit;

namespace Tern.Migration.Tests.Compression;

public sealed class SpscRingTests
{
    [Fact]
    public void Is_first_in_first_out_and_bounded()
    {
        var ring = new SpscRing<string>(4);
        Assert.False(ring.TryDequeue(out _));
        for (var i = 0; i < 4; i++) Assert.True(ring.TryEnqueue($"{i}"));
        Assert.False(ring.TryEnqueue("overflow"));
        for (var round = 0; round < 10; round++)
        {
            Assert.True(ring.TryDequeue(out var item));
            Assert.Equal($"{round}", item);
            Assert.True(ring.TryEnqueue($"{round + 4}"));
        }
        Assert.True(ring.HasItems);
    }

    [Fact]
    public void Capacity_must_be_a_power_of_two()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SpscRing<string>(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SpscRing<string>(6));
    }

    [Fact]
    public void Passes_a_million_items_between_two_threads_in_order()
    {
        const int count = 1_000_000;
        var ring = new SpscRing<Box>(8);
        var boxes = Enumerable.Range(0, 64).Select(i => new Box()).ToArray();
        var producer = TestThread.Start(() =>
        {
            for (var i = 0; i < count; i++)
            {
                var box = boxes[i % boxes.Length];
                box.Value = i; // safe: the consumer is at most 9 items behind, a box is reused 64 items later
                // SpinWait yields the CPU after a few spins: on a one-CPU machine the other side cannot run otherwise.
                var full = new SpinWait();
                while (!ring.TryEnqueue(box)) full.SpinOnce();
            }
        });
        var expected = 0;
        var empty = new SpinWait();
        while (expected < count)
        {
            if (ring.TryDequeue(out var box))
            {
                Assert.Equal(expected, box.Value);
                expected++;
                empty.Reset();
            }
            else
            {
                empty.SpinOnce();
            }
        }
        Assert.True(producer.Finish(TimeSpan.FromSeconds(30)));
    }

    private sealed class Box
    {
        public int Value;
    }
}
