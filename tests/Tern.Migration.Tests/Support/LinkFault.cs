using System.Buffers.Binary;
using Tern.Migration.Protocol;

namespace Tern.Migration.Tests.Support;

/// <summary>What a <see cref="FaultProxy"/> does to the source-to-destination stream of the main connection.</summary>
internal sealed record LinkFault
{
    public enum Kind
    {
        /// <summary>Forward <see cref="Offset"/> bytes, then reset both connections.</summary>
        DropAfterBytes,
        /// <summary>Forward <see cref="Offset"/> bytes, then end the stream to the destination (FIN) and swallow the rest.</summary>
        TruncateAfterBytes,
        /// <summary>Flip one bit of the byte at <see cref="Offset"/> and forward everything.</summary>
        CorruptByteAt,
        /// <summary>Reset both connections instead of forwarding the first frame that matches.</summary>
        DropAtFrame,
        /// <summary>Swallow the first frame that matches and everything after it; the connections stay open.</summary>
        BlackholeAtFrame,
        /// <summary>
        /// At the first frame that matches, every connection through the proxy stops carrying anything, both ways, and
        /// stays open: a link whose packets are lost (a cable pulled, a veth taken down), where no reset ever comes.
        /// </summary>
        HangAtFrame,
    }

    private LinkFault(Kind what, string description, long offset = -1, Func<MessageType, ReadOnlySpan<byte>, bool>? frame = null)
    {
        What = what;
        Description = description;
        Offset = offset;
        Frame = frame;
    }

    public Kind What { get; }
    public string Description { get; }
    public long Offset { get; }
    public Func<MessageType, ReadOnlySpan<byte>, bool>? Frame { get; }

    /// <summary>
    /// Latency of the main connection's return path (destination to source): what the destination sends, its
    /// closing included, reaches the source this much later, in order, as on a long link.
    /// </summary>
    public TimeSpan ReturnPathDelay { get; init; }

    public static LinkFault DropAfterBytes(long bytes) => new(Kind.DropAfterBytes, $"drop after {bytes} bytes", bytes);
    public static LinkFault TruncateAfterBytes(long bytes) => new(Kind.TruncateAfterBytes, $"truncate after {bytes} bytes", bytes);
    public static LinkFault CorruptByteAt(long offset) => new(Kind.CorruptByteAt, $"corrupt byte {offset}", offset);

    public static LinkFault DropAt(MessageType type) => new(Kind.DropAtFrame, $"drop at {type}", frame: (t, _) => t == type);
    public static LinkFault DropAtFirstOf(params MessageType[] types) =>
        new(Kind.DropAtFrame, $"drop at the first of {string.Join(", ", types)}", frame: (t, _) => types.Contains(t));
    public static LinkFault BlackholeAt(MessageType type) => new(Kind.BlackholeAtFrame, $"blackhole from {type}", frame: (t, _) => t == type);

    /// <summary>
    /// Reset both connections at the <paramref name="n"/>th PostcopyPages frame of the background stream, or at
    /// PostcopyStreamEnd if the stream is shorter: the middle of post-copy's background stream.
    /// </summary>
    public static LinkFault DropInBackgroundStream(int n)
    {
        int seen = 0;
        return new(Kind.DropAtFrame, $"drop at background frame {n}", frame: (t, _) =>
            t == MessageType.PostcopyStreamEnd || (t == MessageType.PostcopyPages && ++seen == n));
    }

    /// <summary>Every connection hangs at the <paramref name="n"/>th PostcopyPages frame of the background stream (or at PostcopyStreamEnd).</summary>
    public static LinkFault HangInBackgroundStream(int n)
    {
        int seen = 0;
        return new(Kind.HangAtFrame, $"hang at background frame {n}", frame: (t, _) =>
            t == MessageType.PostcopyStreamEnd || (t == MessageType.PostcopyPages && ++seen == n));
    }

    /// <summary>Reset both connections at the first Pages frame of pass <paramref name="pass"/>.</summary>
    public static LinkFault DropAtPages(uint pass) => new(Kind.DropAtFrame, $"drop at the first Pages of pass {pass}", frame: (t, p) =>
        t == MessageType.Pages && BinaryPrimitives.ReadUInt32LittleEndian(p) == pass);

    /// <summary>Reset both connections at the PassBegin of the first non-final pass numbered <paramref name="pass"/> or later.</summary>
    public static LinkFault DropAtPass(uint pass) => new(Kind.DropAtFrame, $"drop at PassBegin {pass}", frame: (t, p) =>
        t == MessageType.PassBegin && BinaryPrimitives.ReadUInt32LittleEndian(p) >= pass && p[6] == 0);

    public override string ToString() => ReturnPathDelay > TimeSpan.Zero ? $"{Description}, return path {ReturnPathDelay.TotalMilliseconds:0} ms late" : Description;
}
