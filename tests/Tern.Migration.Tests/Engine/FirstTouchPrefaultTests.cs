using Tern.Memory;
using Tern.Migration.Engine;
using Tern.Migration.Protocol;
using Tern.Migration.Tests.Support;

namespace Tern.Migration.Tests.Engine;

/// <summary>
/// Where guest RAM takes no writes through its file (<see cref="MappedOnlyMemory"/>, as hugetlbfs RAM), the
/// destination allocates a chunk of RAM in one call when the first page of data lands in it, instead of taking a
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
        applier = new PageApplier(new MappedOnlyMemory(ram), new CapabilitySchedule(ProtocolCapability.None, new PassBarrier()), new ReceiveCounters());

    public void Dispose()
    {
        decoders.Dispose();
        ram.Dispose();
    }

    private void Apply(params (ulong Page, byte? Fill)[] records) => applier.Apply(PagePayloads.Of(records), decoders, out _);

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
    public void Scattered_pages_allocate_a_bounded_multiple_of_their_data_not_a_chunk_each()
    {
        // One page of data in each of 1,024 chunks of a 256 MiB RAM: whole chunks would allocate all of it (64 times
        // the data; 17 MB of such records once grew a destination by 1 GB).
        using var big = GuestRam.Create(1024 * ChunkBytes);
        var scattered = new PageApplier(new MappedOnlyMemory(big), new CapabilitySchedule(ProtocolCapability.None, new PassBarrier()), new ReceiveCounters());
        const int Chunks = 1024;
        var w = new PayloadWriter();
        w.U32(1);
        w.U32(Chunks);
        var data = Enumerable.Repeat((byte)0x77, PageSize.Bytes).ToArray();
        for (ulong c = 0; c < Chunks; c++)
        {
            w.U64(PageRecord.Header(c * FirstTouchPrefaulter.ChunkPages + 7, PageRecordKind.Normal));
            w.Bytes(data);
        }
        scattered.Apply(w.WrittenSpan, decoders, out _);

        ulong dataBytes = Chunks * (ulong)PageSize.Bytes;
        ulong populated = big.PopulatedRanges().Aggregate(0UL, (sum, r) => sum + r.Length);
        Assert.True(populated >= dataBytes, $"{populated} bytes populated for {dataBytes} of data");
        // The chunks populated ahead (at most AheadRatio times the data, plus one) and the data pages outside them.
        Assert.True(populated <= (FirstTouchPrefaulter.AheadRatio + 1) * dataBytes + ChunkBytes,
            $"{populated} bytes populated for {dataBytes} bytes of data");
        Assert.Equal(0x77, big.GetSpan(new PageIndex(1023 * FirstTouchPrefaulter.ChunkPages + 7).Address, 1)[0]);
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

/// <summary>Guest RAM seen only through its mapping: <see cref="IGuestMemory.TryWritePages"/> says no, as for huge-page RAM.</summary>
internal sealed class MappedOnlyMemory(GuestRam ram) : IGuestMemory
{
    public ulong Size => ram.Size;
    public ulong PageCount => ram.PageCount;
    public void ReadPage(PageIndex page, Span<byte> destination) => ram.ReadPage(page, destination);
    public void WritePage(PageIndex page, ReadOnlySpan<byte> source) => ram.WritePage(page, source);
    public Span<byte> GetSpan(GuestAddress address, int length) => ram.GetSpan(address, length);
    public IEnumerable<GuestRange> PopulatedRanges() => ram.PopulatedRanges();
    public bool IsPopulated(PageIndex page) => ram.IsPopulated(page);
    public bool TryPrefault(GuestRange range) => ram.TryPrefault(range);
}
