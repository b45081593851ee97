using System.Globalization;
using Tern.Memory;
using Tern.Migration.Engine;
using Tern.Migration.Protocol;
using Tern.Migration.Tests.Support;

namespace Tern.Migration.Tests.Engine;

/// <summary>
/// The destination writes runs of whole pages into guest RAM through its memfd (one pwritev a run): each page gets
/// exactly what was sent, records keep their order, and fresh RAM is filled without a page fault per page.
/// </summary>
public sealed class PagesThroughFileTests : IDisposable
{
    private const int Pages = 1024;
    private readonly GuestRam ram = GuestRam.Create(Pages * PageSize.Bytes);
    private readonly ChannelDecoders decoders = new();
    private readonly PageApplier applier;

    public PagesThroughFileTests() =>
        applier = new PageApplier(ram, new CapabilitySchedule(ProtocolCapability.None, new PassBarrier()), new ReceiveCounters());

    public void Dispose()
    {
        decoders.Dispose();
        ram.Dispose();
    }

    // Every byte says which page it belongs to, so a page written from the wrong offset shows.
    private static byte[] Payload(params (ulong Page, byte? Fill)[] records) =>
        PagePayloads.Of(records, b => Enumerable.Range(0, PageSize.Bytes).Select(i => (byte)(b + i / 512)).ToArray());

    private void AssertPage(ulong page, byte? fill)
    {
        var actual = ram.GetSpan(new PageIndex(page).Address, PageSize.Bytes).ToArray();
        for (int i = 0; i < PageSize.Bytes; i++)
        {
            byte expected = fill is { } b ? (byte)(b + i / 512) : (byte)0;
            if (actual[i] != expected) Assert.Fail($"page {page} byte {i}: 0x{actual[i]:x2}, expected 0x{expected:x2}");
        }
    }

    [Fact]
    public void Runs_broken_by_gaps_zero_records_and_backward_steps_each_land_where_they_belong()
    {
        applier.Apply(Payload((10, 1), (11, 2), (12, 3), (40, 4), (41, null), (42, 5), (5, 6), (6, 7)), decoders, out _);
        // Page 41 was never written, so its zero record leaves it untouched; the rest hold what was sent.
        foreach (var (page, fill) in new (ulong, byte?)[] { (10, 1), (11, 2), (12, 3), (40, 4), (41, null), (42, 5), (5, 6), (6, 7), (13, null), (4, null) })
            AssertPage(page, fill);
    }

    [Fact]
    public void A_zero_record_after_data_for_the_same_page_in_one_frame_clears_it()
    {
        applier.Apply(Payload((100, 9), (101, 9), (100, null)), decoders, out _);
        AssertPage(100, null);
        AssertPage(101, 9);
    }

    [Fact]
    public void A_run_longer_than_a_frame_and_ending_at_the_last_page_is_written_whole()
    {
        var records = Enumerable.Range(Pages - 150, 150).Select(p => ((ulong)p, (byte?)(byte)p)).ToArray();
        applier.Apply(Payload(records), decoders, out _);
        foreach (var (page, fill) in records) AssertPage(page, fill);
    }

    [Fact]
    public void Fresh_RAM_fills_without_a_page_fault_per_page()
    {
        // 512 pages (2 MiB) into RAM never touched: through the mapping that is a fault (or a populate) per page.
        const string shmemThp = "/sys/kernel/mm/transparent_hugepage/shmem_enabled";
        Assert.SkipWhen(File.Exists(shmemThp) && File.ReadAllText(shmemThp).Contains("[advise]", StringComparison.Ordinal),
            "skipped: this host's shmem huge pages come only by advice, so guest RAM takes its pages through the advised mapping (GuestRam.TryWritePages)");
        var payloads = Enumerable.Range(0, 8).Select(f => Payload(Enumerable.Range(f * 64, 64).Select(p => ((ulong)p, (byte?)(byte)(p * 3))).ToArray())).ToArray();
        var faults = 0L;
        var thread = new Thread(() =>
        {
            long before = MinorFaultsOfThisThread();
            foreach (var p in payloads) applier.Apply(p, decoders, out _);
            faults = MinorFaultsOfThisThread() - before;
        });
        thread.Start();
        thread.Join();
        Assert.True(faults < 64, $"{faults} page faults to write 512 pages into fresh RAM");
        for (int p = 0; p < 512; p++) AssertPage((ulong)p, (byte)(p * 3));
    }

    /// <summary>minflt of the calling thread (<c>/proc/thread-self/stat</c>, field 10).</summary>
    private static long MinorFaultsOfThisThread()
    {
        string stat = File.ReadAllText("/proc/thread-self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[7], CultureInfo.InvariantCulture);
    }
}
