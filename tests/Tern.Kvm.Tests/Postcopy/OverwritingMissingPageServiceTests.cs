using Tern.Memory;
using Tern.Memory.Postcopy;
using Tern.Os.Userfault;

namespace Tern.Kvm.Tests.Postcopy;

/// <summary>
/// The missing-page service that writes over stale pages in place (userfaultfd MINOR mode) on real memfd RAM: a stale
/// page's old data is never read, its page is kept rather than freed, held pages read at once whether mapped or not,
/// runs are placed around received pages, and a page is never written again once placed.
/// </summary>
public sealed class OverwritingMissingPageServiceTests : IDisposable
{
    private const int Pages = 16;
    private readonly ServedRamRig rig;
    private readonly GuestRam ram;
    private readonly ReceivedPages received;
    private readonly RecordingPageSource source;
    private readonly MissingPageService service;

    public OverwritingMissingPageServiceTests()
    {
        Assert.SkipUnless(UserfaultFd.SupportsMinorShmem, "this kernel has no userfaultfd MINOR mode on memfd memory");
        rig = new ServedRamRig(Pages, StalePageHandling.Overwrite);
        (ram, received, source, service) = (rig.Ram, rig.Received, rig.Source, rig.Service);
    }

    public void Dispose() => rig.Dispose();

    private RamToucher Read(int page) => rig.Read(page);
    private static byte[] Pattern(int seed) => ServedRamRig.Pattern(seed);
    private static void Completes(RamToucher toucher) => ServedRamRig.Completes(toucher);

    /// <summary>Page 0 held and mapped, page 1 held but only in the file, pages 2-5 stale with old data, 6-15 holes (6 stale, the rest held zero).</summary>
    private void HoldAndStale()
    {
        ram.WritePage(new PageIndex(0), Pattern(100)); // through the mapping: mapped
        ram.WritePagesThroughFile(new PageIndex(1), Pattern(101)); // in the file, never mapped
        for (int p = 2; p <= 5; p++) ram.WritePage(new PageIndex((ulong)p), Enumerable.Repeat((byte)0xEE, PageSize.Bytes).ToArray());
        received.Mark(new PageIndex(0));
        received.Mark(new PageIndex(1));
        for (int p = 7; p < Pages; p++) received.Mark(new PageIndex((ulong)p));
    }

    [Fact]
    public void A_stale_page_is_requested_and_reads_only_the_new_data_and_its_page_is_kept_not_freed()
    {
        HoldAndStale();
        service.Start();
        Assert.True(ram.IsPopulated(new PageIndex(3)), "the stale page was freed: Overwrite keeps it for the new data");

        var stale = Read(3);
        Assert.Equal(new PageIndex(3), source.NextRequest());
        Thread.Sleep(100);
        Assert.False(stale.Finished, "the stale page was read before its new data arrived");
        var page = Pattern(3);
        service.Place(new PageIndex(3), page);
        Completes(stale);
        Assert.Equal(page, stale.BytesRead());
        Assert.Equal(1, service.Counters.PagesPlaced);
    }

    [Fact]
    public void Held_pages_are_mapped_at_start_read_unrequested_even_when_unmapped_since_and_held_holes_read_zero()
    {
        HoldAndStale();
        service.Start();
        var mapped = Read(0);
        var inFile = Read(1); // written only through the file before the start: the start mapped it
        Completes(mapped);
        Completes(inFile);
        Assert.Equal(Pattern(100), mapped.BytesRead());
        Assert.Equal(Pattern(101), inFile.BytesRead());
        Assert.Equal(0, service.Counters.KernelFaults); // neither faulted: a managed reader would never block on one

        ram.UnmapPages(new PageIndex(1), 1); // as the kernel may (reclaim): a MINOR fault on a received page, mapped at once
        var again = Read(1);
        var hole = Read(9);
        Completes(again);
        Completes(hole);
        Assert.Equal(Pattern(101), again.BytesRead());
        Assert.Equal(new byte[PageSize.Bytes], hole.BytesRead());
        Assert.True(service.Counters.KernelFaults >= 2, $"{service.Counters.KernelFaults} faults for an unmapped page and a hole");
        Assert.Equal(0, service.Counters.PagesRequested);
    }

    [Fact]
    public void A_run_over_stale_pages_a_stale_hole_and_a_page_already_placed_places_each_once_and_completes_RAM()
    {
        HoldAndStale();
        int completed = 0;
        service.Completed += () => Interlocked.Increment(ref completed);
        service.Start();
        service.Place(new PageIndex(4), Pattern(4)); // arrived on the other lane first
        var waiting = Read(6); // a stale hole: a MISSING fault
        Assert.Equal(new PageIndex(6), source.NextRequest());
        var run = new byte[5 * PageSize.Bytes]; // pages 2-6, page 4's copy different (it must not be written again)
        for (int i = 0; i < 5; i++) (i == 2 ? Pattern(99) : Pattern(2 + i)).CopyTo(run, i * PageSize.Bytes);

        service.PlaceRun(new PageIndex(2), run);

        Completes(waiting);
        Assert.Equal(Pattern(6), waiting.BytesRead());
        Assert.True(service.IsComplete);
        Assert.False(service.IsServing);
        Assert.Equal(1, completed);
        for (int p = 2; p <= 6; p++) Assert.Equal(Pattern(p), ram.GetPageSpan(new PageIndex((ulong)p)).ToArray());
        Assert.Equal(1, service.Counters.PagesAlreadyPresent);
    }

    [Fact]
    public void A_page_written_by_the_guest_after_its_placement_is_not_overwritten_by_a_second_copy()
    {
        HoldAndStale();
        service.Start();
        service.Place(new PageIndex(5), Pattern(5));
        var guest = Pattern(55);
        guest.CopyTo(ram.GetPageSpan(new PageIndex(5))); // present now: the guest writes it
        service.PlaceRun(new PageIndex(5), Pattern(5)); // the same page again, from the other lane
        Assert.Equal(guest, ram.GetPageSpan(new PageIndex(5)).ToArray());
    }

    [Fact]
    public void The_choice_overwrites_when_the_held_pages_cost_less_to_map_than_dropping_the_stale_ones_saves()
    {
        Assert.Equal(StalePageHandling.Overwrite, StalePageChoice.Choose(stalePopulated: 131_074, heldPopulated: 10, minorFaults: true));
        Assert.Equal(StalePageHandling.Overwrite, StalePageChoice.Choose(stalePopulated: 1000, heldPopulated: 1000, minorFaults: true));
        Assert.Equal(StalePageHandling.Drop, StalePageChoice.Choose(stalePopulated: 1000, heldPopulated: 1200, minorFaults: true));
        Assert.Equal(StalePageHandling.Drop, StalePageChoice.Choose(stalePopulated: 131_074, heldPopulated: 10, minorFaults: false));
        Assert.Equal(StalePageHandling.Drop, StalePageChoice.Choose(stalePopulated: 0, heldPopulated: 0, minorFaults: true));
    }

    [Fact]
    public void Prepared_ahead_the_held_pages_are_mapped_and_nothing_is_dropped_or_the_stale_ones_are_dropped()
    {
        HoldAndStale();
        var (handling, mapped) = StalePageChoice.PrepareAhead(ram, page => !received.Contains(page));
        Assert.Equal(StalePageHandling.Overwrite, handling); // 2 held pages with data against 4 stale
        Assert.Equal(2, mapped);
        Assert.True(ram.IsPopulated(new PageIndex(2)));

        for (int p = 8; p < Pages; p++) ram.WritePage(new PageIndex((ulong)p), Pattern(p)); // now 10 held pages with data
        var (again, dropped) = StalePageChoice.PrepareAhead(ram, page => !received.Contains(page));
        Assert.Equal(StalePageHandling.Drop, again);
        Assert.Equal(4, dropped);
        Assert.False(ram.IsPopulated(new PageIndex(2)));
    }
}
