using Tern.Memory;
using Tern.Migration.Engine;
using Tern.Migration.Protocol;

namespace Tern.Migration.Tests.Engine;

/// <summary>
/// The destination allocates a chunk of RAM in one call when the first page of data lands in it, instead of taking a
/// page fault on every page; zero pages allocate nothing.
/// </summary>
public sealed class FirstTouchPrefaultTests : IDisposable
{
    private const int Pages = 250; // the last chunk is short: pages 192 to 249
    private const ulong ChunkBytes = FirstTouchPrefaulter.ChunkPages * PageSize.Bytes;
    private readonly GuestRam ram = GuestRam.Create(Pages * PageSize.Bytes);
    private readonly ChannelDecoders decoders = new();
    private readonly PageApplier applier;

    public FirstTouchPrefaultTests() =>
        applier = new PageApplier(ram, new CapabilitySchedule(ProtocolCapability.None, new PassBarrier()), new ReceiveCounters());

    public void Dispose()
    {
        decoders.Dispose();
        ram.Dispose();
    }

    private void Apply(params (ulong Page, byte? Fill)[] records)
    {
        var w = new PayloadWriter();
        w.U32(1);
        w.U32((uint)records.Length);
        foreach (var (page, fill) in records)
        {
            w.U64(PageRecord.Header(page, fill is null ? PageRecordKind.Zero : PageRecordKind.Normal));
            if (fill is { } b) w.Bytes(Enumerable.Repeat(b, PageSize.Bytes).ToArray());
        }
        applier.Apply(w.WrittenSpan, decoders, out _);
    }

    [Fact]
    public void The_first_page_of_data_allocates_its_whole_chunk_and_only_that()
    {
        Apply((70, 0x5a));

        var populated = Assert.Single(ram.PopulatedRanges());
        Assert.Equal(new GuestRange(new GuestAddress(ChunkBytes), ChunkBytes), populated);
        Assert.All(ram.GetSpan(new PageIndex(70).Address, PageSize.Bytes).ToArray(), b => Assert.Equal(0x5a, b));
        Assert.All(ram.GetSpan(new PageIndex(71).Address, PageSize.Bytes).ToArray(), b => Assert.Equal(0, b));
    }

    [Fact]
    public void Zero_pages_allocate_nothing()
    {
        Apply((3, null), (130, null), (249, null));
        Assert.Empty(ram.PopulatedRanges());
    }

    [Fact]
    public void The_last_chunk_is_clipped_to_guest_RAM_and_pages_keep_what_they_were_sent()
    {
        Apply((249, 0x11), (192, 0x22), (249, 0x33));

        var populated = Assert.Single(ram.PopulatedRanges());
        Assert.Equal(new GuestRange(new GuestAddress(3 * ChunkBytes), (Pages - 192) * PageSize.Bytes), populated);
        Assert.Equal(0x22, ram.GetSpan(new PageIndex(192).Address, 1)[0]);
        Assert.Equal(0x33, ram.GetSpan(new PageIndex(249).Address, 1)[0]);
    }
}
