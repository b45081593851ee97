using Tern.Migration.Engine;
using Tern.Migration.Protocol;
using Tern.Migration.Tests.Support;

namespace Tern.Migration.Tests.Regressions;

/// <summary>
/// The destination's watchdog counts bytes as they arrive, partial frames too, and calls a source that moves less than
/// the minimum a trickle. A frame trickled at one byte a second was once cut off as "no data", since only whole
/// frames counted as progress; a big frame on a slow link would have been cut off the same way.
/// </summary>
public sealed class SlowStreamTests
{
    private static readonly DestinationLimits ShortWindow = new() { ProgressWindow = TimeSpan.FromSeconds(2), MinimumProgressBytes = 1024 };

    [Fact]
    public async Task A_frame_trickled_a_byte_at_a_time_is_cut_off_as_a_trickle_and_the_source_told_why()
    {
        using var raw = new RawSource(limits: ShortWindow);
        raw.Handshake();
        raw.PassBegin(1);
        // A whole frame's worth, so the trickle lasts until the destination hangs up (30 s at most).
        byte[] frame = [.. RawFrameHeader.Build((ushort)MessageType.Pages, length: 64), .. new byte[64]];
        var trickling = Task.Run(() =>
        {
            try
            {
                foreach (byte b in frame)
                {
                    raw.Stream.Write([b]);
                    Thread.Sleep(400);
                }
            }
            catch (IOException)
            {
                // the destination hung up, as it should
            }
        }, TestContext.Current.CancellationToken);

        var error = raw.ExpectRejection();
        Assert.Contains("the source trickles", error.Text);
        Assert.Contains("bytes in the last 2 s while receiving RAM, less than the 1024 bytes", error.Text);
        Assert.DoesNotContain("no data", error.Text);
        await trickling;
    }

    [Fact]
    public void A_big_frame_that_arrives_slowly_but_steadily_is_not_cut_off()
    {
        using var raw = new RawSource(limits: ShortWindow);
        raw.Handshake();
        raw.PassBegin(1);
        // One Pages frame of 3,000 zero-page records (24 KiB), written 1 KiB every 250 ms: 6 s for one frame, three
        // watchdog windows, each of which sees 4 times the minimum arrive.
        var payload = new PayloadWriter();
        payload.U32(1);
        payload.U32(3000);
        for (ulong page = 0; page < 3000; page++) payload.U64(PageRecord.Header(page, PageRecordKind.Zero));
        var frame = new byte[Frame.HeaderSize + payload.WrittenSpan.Length];
        Frame.WriteHeader(frame, MessageType.Pages, payload.WrittenSpan);
        payload.WrittenSpan.CopyTo(frame.AsSpan(Frame.HeaderSize));
        for (int offset = 0; offset < frame.Length; offset += 1024)
        {
            raw.Stream.Write(frame.AsSpan(offset, Math.Min(1024, frame.Length - offset)));
            Thread.Sleep(250);
        }
        // The frame was taken whole; what ends the attempt now is the next thing the test sends, not the slow link.
        raw.Send(MessageType.Commit, _ => { });

        var error = raw.ExpectRejection();
        Assert.Contains("unexpected Commit message while receiving RAM", error.Text);
    }
}
