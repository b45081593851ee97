using System.Diagnostics;
using Tern.Migration.Protocol;
using Tern.Migration.Tests.Support;

namespace Tern.Migration.Tests.Regressions;

/// <summary>
/// Each SetCapability costs the destination the same small work however many came before it, and a flood of them
/// writes no flood of log lines. 160,000 switches (3.4 MB) once took 107 s of CPU: the whole list of switches was
/// copied for each one, and each wrote a log line.
/// </summary>
public sealed class SetCapabilityFloodTests
{
    private const int Switches = 160_000;

    [Fact]
    public void A_flood_of_capability_switches_is_read_at_the_pace_of_the_socket_and_logged_once_per_pass()
    {
        using var raw = new RawSource();
        raw.Handshake();
        raw.PassBegin(1);
        raw.Send(MessageType.PassEnd, new PassEndMessage(1, 0).Write);

        // Every switch in one buffer, written at once: the test measures the destination, not its own frame writes.
        var flood = new MemoryStream();
        var frames = new FrameConnection(flood, "buffer");
        for (int i = 0; i < Switches; i++)
        {
            var payload = new PayloadWriter();
            new SetCapabilityMessage(ProtocolCapability.Xbzrle, Enabled: i % 2 == 1).Write(payload); // ends on: off, on, off, ..., on
            frames.Write(MessageType.SetCapability, payload);
        }
        var last = new PayloadWriter();
        new SetCapabilityMessage(ProtocolCapability.CompressZstd, false).Write(last);
        frames.Write(MessageType.SetCapability, last);
        var written = Stopwatch.StartNew();
        raw.Stream.Write(flood.GetBuffer().AsSpan(0, (int)flood.Length));
        raw.PassBegin(2);
        // Something the destination answers only after reading all of the above: an error it names.
        raw.Send(MessageType.Commit, _ => { });

        raw.Stream.ReadTimeout = 120_000; // the old cost was minutes; the assertion below says how much is allowed
        var error = raw.ExpectRejection();
        Assert.Contains("unexpected Commit message while receiving RAM", error.Text);
        // Not a performance figure: a bound with a wide margin (reading 3.4 MB over loopback takes about a second,
        // the quadratic copy took minutes), so that the test tells the two apart on a busy machine.
        Assert.True(written.Elapsed < TimeSpan.FromSeconds(30), $"{Switches} SetCapability messages took {written.Elapsed.TotalSeconds:0} s to read");
        // One line for how the source left its switches for pass 2 (xbzrle switched 160,000 times, ending on).
        var lines = raw.Log.Where(l => l.Contains("switched", StringComparison.Ordinal)).ToList();
        Assert.Equal(["the source switched xbzrle on, compresszstd off from pass 2"], lines);
    }
}
