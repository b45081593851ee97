using Tern.Memory;
using Tern.Memory.Postcopy;
using Tern.Os;

namespace Tern.Kvm.Tests.Postcopy;

/// <summary>
/// The missing-page service on real memfd guest RAM registered with userfaultfd: accesses to missing pages are
/// requested once and served with the bytes placed, pages that arrive first are never requested, received zero pages
/// and stale pages are handled, the range is unregistered once complete, and a stop never hangs. Every access is made
/// by the kernel inside a system call (<see cref="RamToucher"/>), never by managed code.
/// </summary>
public sealed class MissingPageServiceTests : IDisposable
{
    private const int Pages = 8;
    private readonly ServedRamRig rig = new(Pages);
    private readonly GuestRam ram;
    private readonly ReceivedPages received;
    private readonly RecordingPageSource source;
    private readonly MissingPageService service;

    public MissingPageServiceTests() => (ram, received, source, service) = (rig.Ram, rig.Received, rig.Source, rig.Service);

    public void Dispose() => rig.Dispose();

    private RamToucher Read(int page) => rig.Read(page);
    private static byte[] Pattern(int seed) => ServedRamRig.Pattern(seed);
    private static void Completes(RamToucher toucher) => ServedRamRig.Completes(toucher);

    [Fact]
    public void An_access_to_a_missing_page_requests_it_once_and_reads_exactly_the_bytes_placed()
    {
        service.Start();
        var first = Read(3);
        Assert.Equal(new PageIndex(3), source.NextRequest());
        var second = Read(3); // a second access to the same page, while it is still missing
        Thread.Sleep(100);
        Assert.False(first.Finished, "the access finished before its page was placed");

        var page = Pattern(3);
        service.Place(new PageIndex(3), page);

        Completes(first);
        Completes(second);
        Assert.Equal(page, first.BytesRead());
        Assert.Equal(page, second.BytesRead());
        Assert.Equal(0, source.Pending); // requested once
        Assert.True(received.Contains(new PageIndex(3)));
        var counters = service.Counters;
        Assert.True(counters.KernelFaults >= 2, $"{counters.KernelFaults} kernel faults counted for two accesses");
        Assert.Equal(1, counters.PagesRequested);
        Assert.Equal(1, counters.PagesPlaced);
        Assert.Equal(1, counters.LatencyBuckets.Sum());
        Assert.True(counters.BlockedTime >= TimeSpan.FromMilliseconds(90), $"blocked {counters.BlockedTime} for a page placed after 100 ms");
    }

    [Fact]
    public void A_page_placed_before_any_access_is_never_requested_and_a_page_received_as_zero_reads_zero_unrequested()
    {
        received.Mark(new PageIndex(5)); // arrived as a zero record: a hole of the memfd
        service.Start();
        var streamed = Pattern(2);
        service.Place(new PageIndex(2), streamed);

        var two = Read(2);
        var five = Read(5);
        Completes(two);
        Completes(five);
        Assert.Equal(streamed, two.BytesRead());
        Assert.Equal(new byte[PageSize.Bytes], five.BytesRead());
        Assert.Equal(0, source.Pending);
        Assert.Equal(0, service.Counters.PagesRequested);
    }

    [Fact]
    public void Data_of_a_page_not_received_is_stale_and_dropped_at_start_while_received_data_stays()
    {
        ram.WritePage(new PageIndex(0), Enumerable.Repeat((byte)0xBB, PageSize.Bytes).ToArray());
        received.Mark(new PageIndex(0));
        ram.WritePage(new PageIndex(1), Enumerable.Repeat((byte)0xAA, PageSize.Bytes).ToArray()); // not received
        service.Start();

        var kept = Read(0);
        Completes(kept);
        Assert.All(kept.BytesRead(), b => Assert.Equal(0xBB, b));

        var stale = Read(1);
        Assert.Equal(new PageIndex(1), source.NextRequest());
        var page = Pattern(1);
        service.Place(new PageIndex(1), page);
        Completes(stale);
        Assert.Equal(page, stale.BytesRead());
    }

    [Fact]
    public void The_last_page_completes_the_service_which_unregisters_RAM()
    {
        int completed = 0;
        service.Completed += () => Interlocked.Increment(ref completed);
        service.Start();
        Assert.True(service.IsServing);
        for (int p = 0; p < Pages; p++) service.Place(new PageIndex((ulong)p), Pattern(p));

        Assert.True(service.IsComplete);
        Assert.False(service.IsServing);
        Assert.Equal(1, completed);
        // Unregistered: a page emptied behind its back now reads as zero at once instead of faulting to nobody.
        MemFd.PunchHole(ram.BackingFile, 0, PageSize.Bytes);
        var after = Read(0);
        Completes(after);
        Assert.Equal(new byte[PageSize.Bytes], after.BytesRead());
        Assert.Equal(0, service.Counters.Faults);
    }

    [Fact]
    public void A_page_placed_twice_keeps_the_first_copy_and_counts_the_second_as_already_present()
    {
        service.Start();
        var first = Pattern(10);
        service.Place(new PageIndex(4), first);
        service.Place(new PageIndex(4), Pattern(11));

        var read = Read(4);
        Completes(read);
        Assert.Equal(first, read.BytesRead());
        Assert.Equal(1, service.Counters.PagesPlaced);
        Assert.Equal(1, service.Counters.PagesAlreadyPresent);
        Assert.Equal(1, received.Count);
    }

    [Fact]
    public void A_run_of_pages_is_placed_around_the_pages_already_received_which_keep_their_data()
    {
        service.Start();
        var held = Pattern(40);
        service.Place(new PageIndex(3), held); // arrived on the other lane first
        var blocked = Read(2); // a vCPU waits on a page inside the run
        Assert.Equal(new PageIndex(2), source.NextRequest());
        var run = new byte[4 * PageSize.Bytes]; // pages 1-4
        for (int i = 0; i < 4; i++) Pattern(50 + i).CopyTo(run, i * PageSize.Bytes);

        service.PlaceRun(new PageIndex(1), run);

        Completes(blocked);
        Assert.Equal(Pattern(51), blocked.BytesRead());
        for (int p = 1; p <= 4; p++)
        {
            var read = Read(p);
            Completes(read);
            Assert.Equal(p == 3 ? held : Pattern(50 + p - 1), read.BytesRead());
            Assert.True(received.Contains(new PageIndex((ulong)p)));
        }
        var counters = service.Counters;
        Assert.Equal(4, counters.PagesPlaced); // page 3 once, then 1-2 and 4 around it
        Assert.Equal(1, counters.PagesAlreadyPresent);
        Assert.Equal(4, received.Count);
        Assert.Equal(0, source.Pending);
    }

    [Fact]
    public void A_run_that_completes_RAM_unregisters_it_and_a_run_outside_RAM_or_of_part_of_a_page_is_refused()
    {
        int completed = 0;
        service.Completed += () => Interlocked.Increment(ref completed);
        service.Start();
        Assert.Throws<ArgumentOutOfRangeException>(() => service.PlaceRun(new PageIndex(Pages - 1), new byte[2 * PageSize.Bytes]));
        Assert.Throws<ArgumentException>(() => service.PlaceRun(new PageIndex(0), new byte[PageSize.Bytes + 1]));
        Assert.Equal(0, received.Count);

        var all = new byte[Pages * PageSize.Bytes];
        new Random(7).NextBytes(all);
        all.AsSpan(2 * PageSize.Bytes, PageSize.Bytes).Clear(); // a zero page inside the run
        service.PlaceRun(new PageIndex(0), all);

        Assert.True(service.IsComplete);
        Assert.False(service.IsServing);
        Assert.Equal(1, completed);
        Assert.Equal(all, ram.GetSpan(new GuestAddress(0), Pages * PageSize.Bytes).ToArray());
    }

    [Fact]
    public void Managed_code_asks_and_waits_for_a_page_instead_of_touching_it()
    {
        service.Start();
        var page = new PageIndex(6);
        Assert.False(service.IsPresent(page));
        service.ReportMissing(page);
        Assert.Equal(page, source.NextRequest());
        Assert.Equal(PageWait.TimedOut, service.WaitUntilPresent(page, timeoutMilliseconds: 20));

        var placer = new Thread(() => { Thread.Sleep(50); service.Place(page, Pattern(6)); }) { IsBackground = true };
        placer.Start();
        Assert.Equal(PageWait.Present, service.WaitUntilPresent(page, timeoutMilliseconds: (int)ServedRamRig.Patience.TotalMilliseconds));
        Assert.True(service.IsPresent(page));
        Assert.Equal(Pattern(6), ram.GetPageSpan(page).ToArray()); // safe now: it is present
        Assert.Equal(1, service.Counters.ReportedMisses);
        // Its own waits: 20 ms timed out, then about 50 ms until the page came.
        Assert.True(service.Counters.BlockedTime >= TimeSpan.FromMilliseconds(60), $"blocked {service.Counters.BlockedTime}");
        Assert.Equal(0, service.Counters.KernelFaults);
        Assert.Equal(1, service.Counters.PagesRequested);
        placer.Join();
    }

    [Fact]
    public void Stopping_with_an_access_blocked_on_a_page_that_never_comes_returns_promptly_and_marks_nothing()
    {
        service.Start();
        var blocked = Read(7);
        Assert.Equal(new PageIndex(7), source.NextRequest());
        PageWait? managed = null;
        var waiter = new Thread(() => managed = service.WaitUntilPresent(new PageIndex(7), timeoutMilliseconds: 60_000)) { IsBackground = true };
        waiter.Start();
        Thread.Sleep(50);

        var stopping = System.Diagnostics.Stopwatch.StartNew();
        var stopper = new Thread(service.Dispose) { IsBackground = true };
        stopper.Start();
        Assert.True(stopper.Join(TimeSpan.FromSeconds(10)), "stopping the service hung");
        Assert.True(waiter.Join(TimeSpan.FromSeconds(10)), "a managed waiter was not released by the stop");
        Assert.Equal(PageWait.Stopped, managed);
        Assert.True(blocked.WaitForCompletion(TimeSpan.FromSeconds(10)), "the access blocked on the missing page was not released");
        Assert.False(received.Contains(new PageIndex(7)), "a page that never came is marked received");
        // Released, the access either failed (EFAULT) or, as on 6.x kernels, retried on the now unregistered page and
        // read zeros, which are not the page's data: that is why a machine is stopped before the service.
        Assert.True(blocked.Failure is not null || blocked.BytesRead().All(b => b == 0), "the released access read data");
        Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(5), $"stopping took {stopping.Elapsed}");
        // Nothing is placed after a stop.
        service.Place(new PageIndex(7), Pattern(7));
        Assert.False(received.Contains(new PageIndex(7)));
    }

    [Fact]
    public void Huge_page_RAM_is_refused_with_the_reason()
    {
        Assert.SkipUnless(HostHugePages.TryRead() is { Free: >= 1 }, "no free 2 MiB huge page on this host");
        using var huge = GuestRam.Create(2UL << 20, hugePages: true);
        using var hugeService = new MissingPageService(huge, new ReceivedPages(huge.PageCount), source);
        var e = Assert.Throws<NotSupportedException>(hugeService.Start);
        Assert.Contains("--huge-pages", e.Message);
    }
}
