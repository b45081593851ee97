using Tern.Memory;
using Tern.Migration.Engine;
using Tern.Migration.Protocol;
using Tern.Migration.Tests.Support;

namespace Tern.Migration.Tests.Engine;

/// <summary>
/// The page applier marks each page it applies as received, after its data is in RAM: the destination knows which
/// pages hold their final data (post-copy serves the rest).
/// </summary>
public sealed class ReceivedPagesOfApplierTests : IDisposable
{
    private const int Pages = 100;
    private readonly GuestRam ram = GuestRam.Create(Pages * PageSize.Bytes);
    private readonly ChannelDecoders decoders = new();
    private readonly PageApplier applier;

    public ReceivedPagesOfApplierTests() =>
        applier = new PageApplier(ram, new CapabilitySchedule(ProtocolCapability.None, new PassBarrier()), new ReceiveCounters());

    public void Dispose()
    {
        decoders.Dispose();
        ram.Dispose();
    }

    private void Apply(params (ulong Page, byte? Fill)[] records) => applier.Apply(PagePayloads.Of(records), decoders, out _);

    [Fact]
    public void Pages_of_data_and_zero_pages_are_marked_and_the_others_stay_missing()
    {
        Apply((3, 0x11), (40, null), (99, 0x22));

        var received = applier.Received;
        Assert.Equal(3, received.Count);
        Assert.True(received.Contains(new PageIndex(3)));
        Assert.True(received.Contains(new PageIndex(40)));
        Assert.True(received.Contains(new PageIndex(99)));
        Assert.Equal(Pages - 3, received.Missing().Count());
        Assert.DoesNotContain(new PageIndex(40), received.Missing());
        Assert.False(received.IsComplete);
    }

    [Fact]
    public void A_page_received_twice_counts_once_and_all_pages_make_it_complete()
    {
        Apply((7, 0x01), (7, 0x02));
        Assert.Equal(1, applier.Received.Count);

        Apply(Enumerable.Range(0, Pages).Select(p => ((ulong)p, (byte?)null)).ToArray());
        Assert.True(applier.Received.IsComplete);
        Assert.Empty(applier.Received.Missing());
    }

    [Fact]
    public void A_rejected_record_marks_nothing_after_it()
    {
        Assert.Throws<ProtocolException>(() => Apply((5, 0x33), (Pages + 1, 0x44), (6, 0x55)));
        // Whole pages are gathered into runs and written together, so page 5 may still have been waiting for its
        // write when the bad record stopped the frame: then it is neither written nor marked. Never marked without
        // its data, and nothing after the bad record.
        Assert.False(applier.Received.Contains(new PageIndex(6)));
        Assert.True(applier.Received.Count <= 1);
    }
}
