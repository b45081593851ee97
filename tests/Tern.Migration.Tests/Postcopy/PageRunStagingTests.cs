using Tern.Memory;
using Tern.Memory.Postcopy;
using Tern.Migration.Engine.Postcopy;

namespace Tern.Migration.Tests.Postcopy;

/// <summary>
/// The destination gathers consecutive post-copy pages into runs placed at once: a run holds consecutive pages only,
/// at most a frame's worth, places exactly the bytes gathered, and the buffers are shared out without blocking.
/// </summary>
public sealed class PageRunStagingTests : IDisposable
{
    private const int Pages = 256;
    private readonly GuestRam ram = GuestRam.Create(Pages * PageSize.Bytes);
    private readonly ReceivedPages received = new(Pages);
    private readonly MissingPageService service;

    public PageRunStagingTests() => service = new MissingPageService(ram, received, new NoPageSource());

    public void Dispose()
    {
        service.Dispose();
        ram.Dispose();
    }

    private static byte[] Pattern(int seed)
    {
        var bytes = new byte[PageSize.Bytes];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    [Fact]
    public void A_run_takes_consecutive_pages_up_to_a_frame_and_places_exactly_them()
    {
        var run = new PageRunStaging().Take()!;
        Assert.True(run.TryAppend(new PageIndex(10), Pattern(10)));
        Assert.True(run.TryAppend(new PageIndex(11), Pattern(11)));
        Assert.False(run.TryAppend(new PageIndex(13), Pattern(13))); // a gap ends the run
        Assert.False(run.TryAppend(new PageIndex(10), Pattern(10))); // so does a page before it
        run.PlaceInto(service);
        Assert.Equal(2, received.Count);
        Assert.Equal(Pattern(10), ram.GetPageSpan(new PageIndex(10)).ToArray());
        Assert.Equal(Pattern(11), ram.GetPageSpan(new PageIndex(11)).ToArray());

        // Emptied by the placement: the next run may start anywhere, and stops at a frame's worth of pages.
        for (int i = 0; i < PostcopyPageFrames.MaxPages; i++)
            Assert.True(run.TryAppend(new PageIndex((ulong)(100 + i)), Pattern(100 + i)));
        Assert.False(run.TryAppend(new PageIndex((ulong)(100 + PostcopyPageFrames.MaxPages)), Pattern(0)));
        run.PlaceInto(service);
        Assert.Equal(2 + PostcopyPageFrames.MaxPages, received.Count);
        Assert.Equal(Pattern(163), ram.GetPageSpan(new PageIndex(163)).ToArray());
        run.PlaceInto(service); // nothing gathered: nothing placed
        Assert.Equal(2 + PostcopyPageFrames.MaxPages, received.Count);
    }

    [Fact]
    public void Buffers_are_shared_out_without_waiting_and_come_back_empty()
    {
        var staging = new PageRunStaging();
        var taken = Enumerable.Range(0, 4).Select(_ => staging.Take()).ToList();
        Assert.All(taken, Assert.NotNull);
        Assert.Equal(4, taken.Distinct().Count());
        Assert.Null(staging.Take()); // all taken: the caller places page by page

        taken[2]!.TryAppend(new PageIndex(7), Pattern(7));
        taken[2]!.Return();
        var again = staging.Take();
        Assert.Same(taken[2], again);
        again!.PlaceInto(service); // what was gathered before the return is gone
        Assert.Equal(0, received.Count);
    }

    private sealed class NoPageSource : IMissingPageSource
    {
        public void RequestPage(PageIndex page) => throw new InvalidOperationException("no page is requested: the service is never started");
    }
}
