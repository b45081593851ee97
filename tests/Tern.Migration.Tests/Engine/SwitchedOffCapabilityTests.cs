using Tern.Memory;
using Tern.Migration.Engine;
using Tern.Migration.Protocol;
using Tern.Migration.Xbzrle;

namespace Tern.Migration.Tests.Engine;

/// <summary>
/// The destination accepts a page record of a negotiated kind only while the source has it switched on: a record of a
/// kind the source announced off (SetCapability) for that pass is a protocol error.
/// </summary>
public sealed class SwitchedOffCapabilityTests : IDisposable
{
    private readonly GuestRam ram = GuestRam.Create(1 << 20);
    private readonly PassBarrier barrier = new();
    private readonly ChannelDecoders decoders = new();

    public void Dispose()
    {
        decoders.Dispose();
        ram.Dispose();
    }

    private PageApplier Applier(ProtocolCapability negotiated) => new(ram, new CapabilitySchedule(negotiated, barrier), new ReceiveCounters());

    /// <summary>A Pages payload of pass <paramref name="pass"/> with one XBZRLE record that turns page 3 (all zero) into "new".</summary>
    private static byte[] XbzrlePayload(uint pass, byte value)
    {
        var old = new byte[PageSize.Bytes];
        var updated = new byte[PageSize.Bytes];
        updated[100] = value;
        var delta = new byte[PageSize.Bytes];
        var encoded = XbzrleEncoder.Encode(old, updated, delta);
        Assert.Equal(XbzrleEncodeStatus.Encoded, encoded.Status);
        var batch = new PageBatch();
        batch.Begin(pass);
        batch.AppendEncoded(new PageIndex(3), PageRecordKind.Xbzrle, delta.AsSpan(0, encoded.Length));
        var frame = batch.Finish();
        var payload = frame.Buffer.AsSpan(0, frame.Length).ToArray();
        frame.Release();
        return payload;
    }

    private void Begin(uint pass) => barrier.Begin(pass, channels: 1, openChannels: 1);

    [Fact]
    public void A_record_of_a_kind_switched_off_is_rejected_and_accepted_again_once_switched_on()
    {
        var applier = Applier(ProtocolCapability.Xbzrle);
        Begin(1);
        applier.Apply(XbzrlePayload(1, 7), decoders, out _);
        Assert.Equal(7, ram.GetSpan(new PageIndex(3).Address, PageSize.Bytes)[100]);

        applier.Capabilities.Record(ProtocolCapability.Xbzrle, on: false); // before PassBegin 2: from pass 2
        Begin(2);
        var e = Assert.Throws<ProtocolException>(() => applier.Apply(XbzrlePayload(2, 7), decoders, out _));
        Assert.Contains("switched xbzrle off from pass 2", e.Message, StringComparison.Ordinal);

        applier.Capabilities.Record(ProtocolCapability.Xbzrle, on: true);
        Begin(3);
        applier.Apply(XbzrlePayload(3, 9), decoders, out _);
        Assert.Equal(9, ram.GetSpan(new PageIndex(3).Address, PageSize.Bytes)[100]);
    }

    [Fact]
    public void A_record_of_a_kind_never_negotiated_is_rejected()
    {
        var applier = Applier(ProtocolCapability.None);
        Begin(1);
        var e = Assert.Throws<ProtocolException>(() => applier.Apply(XbzrlePayload(1, 7), decoders, out _));
        Assert.Contains("not negotiated", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_switch_is_reported_once_for_its_pass_and_not_again_until_it_changes()
    {
        var schedule = new CapabilitySchedule(ProtocolCapability.Xbzrle | ProtocolCapability.CompressZstd, barrier);
        Begin(1);
        schedule.Record(ProtocolCapability.Xbzrle, on: true);
        Begin(2);
        Assert.Equal((ProtocolCapability.Xbzrle, ProtocolCapability.None), schedule.TakeNewlyReported(2));
        schedule.Record(ProtocolCapability.Xbzrle, on: true); // said again: nothing new
        Begin(3);
        Assert.Equal((ProtocolCapability.None, ProtocolCapability.None), schedule.TakeNewlyReported(3));
        for (int i = 0; i < 1001; i++) schedule.Record(ProtocolCapability.Xbzrle, on: i % 2 == 1); // ends off
        schedule.Record(ProtocolCapability.CompressZstd, on: false);
        Begin(4);
        Assert.Equal((ProtocolCapability.None, ProtocolCapability.Xbzrle | ProtocolCapability.CompressZstd), schedule.TakeNewlyReported(4));
        Assert.Equal(ProtocolCapability.None, schedule.AllowedIn(4));
        Assert.Equal(4u, schedule.SwitchedOffFrom(ProtocolCapability.Xbzrle, 4));
        Assert.Null(schedule.SwitchedOffFrom(ProtocolCapability.Xbzrle, 3));
    }

    [Fact]
    public void Switches_apply_from_the_pass_after_the_last_one_begun()
    {
        var schedule = new CapabilitySchedule(ProtocolCapability.Xbzrle | ProtocolCapability.CompressZstd, barrier);
        Begin(1);
        Begin(2);
        schedule.Record(ProtocolCapability.CompressZstd, on: false);
        Begin(3);
        Assert.Equal(ProtocolCapability.Xbzrle | ProtocolCapability.CompressZstd, schedule.AllowedIn(2));
        Assert.Equal(ProtocolCapability.Xbzrle, schedule.AllowedIn(3));
        // Pass 4 has not begun on the main connection: its own switches may still be unread, so only what was
        // negotiated is checked.
        Assert.Equal(ProtocolCapability.Xbzrle | ProtocolCapability.CompressZstd, schedule.AllowedIn(4));
    }
}
