using System.Buffers.Binary;
using Tern.Migration.Protocol;

namespace Tern.Migration.Engine;

/// <summary>
/// One destination channel's view of passes: holds back pages of a new pass until the previous pass has ended on
/// every channel, and checks that PassEnd reports as many records as arrived.
/// </summary>
internal sealed class ChannelPassTracker(int channel, PassBarrier barrier) : IDisposable
{
    private readonly ChannelDecoders decoders = new();
    private uint currentPass;
    private ulong records;

    public void Apply(PageApplier applier, ReadOnlySpan<byte> payload, CancellationToken cancel)
    {
        if (payload.Length < 8) throw new ProtocolException($"Pages frame of {payload.Length} bytes on channel {channel} is too short for its header");
        uint pass = BinaryPrimitives.ReadUInt32LittleEndian(payload);
        if (pass == 0) throw new ProtocolException($"pages for pass 0 on channel {channel}: passes start at 1");
        if (pass < currentPass) throw new ProtocolException($"pages of pass {pass} on channel {channel} after pages of pass {currentPass}");
        if (pass > currentPass)
        {
            RequireBegun(pass, "Pages", cancel);
            RequireOwnPassesEnded(pass, "Pages");
            barrier.WaitCompleted(pass - 1, cancel);
            currentPass = pass;
            records = 0;
        }
        records += applier.Apply(payload, decoders, out _);
    }

    public void End(PassEndMessage end, CancellationToken cancel)
    {
        RequireBegun(end.Pass, "PassEnd", cancel);
        if (end.Pass == 0 || end.Pass < currentPass)
            throw new ProtocolException($"PassEnd for pass {end.Pass} on channel {channel} after pages of pass {currentPass}");
        RequireOwnPassesEnded(end.Pass, "PassEnd");
        if (end.Pass > currentPass)
        {
            currentPass = end.Pass;
            records = 0;
        }
        if (end.Records != records)
            throw new ProtocolException($"PassEnd for pass {end.Pass} on channel {channel} claims {end.Records} page records, {records} arrived");
        barrier.ChannelDone(end.Pass, channel);
    }

    /// <summary>
    /// Data of a pass needs its PassBegin first. On the main connection PassBegin travels ahead of the pass's data, so
    /// its absence is an error at once. An extra channel's data may overtake the PassBegin on the main connection
    /// (another socket, another thread), so it waits up to <see cref="PassBeginGrace"/> for it.
    /// </summary>
    private void RequireBegun(uint pass, string message, CancellationToken cancel)
    {
        if (barrier.WaitBegun(pass, channel == 0 ? TimeSpan.Zero : PassBeginGrace, cancel)) return;
        throw new ProtocolException($"{message} for pass {pass} on channel {channel} while receiving RAM, but pass {pass} has not begun " +
            $"(no PassBegin for it; the last pass begun is {barrier.LastBegun})");
    }

    /// <summary>
    /// Data of pass p while this very channel has not ended an earlier pass it was used in: the barrier would hold the
    /// data until that pass ends everywhere, which needs this channel's own PassEnd, which comes after the data on this
    /// connection. The destination would wait on itself; it is the source's error, named at once.
    /// </summary>
    private void RequireOwnPassesEnded(uint pass, string message)
    {
        if (barrier.UnendedBefore(pass, channel) is not { } owed) return;
        throw new ProtocolException($"{message} for pass {pass} on channel {channel} before channel {channel} ended pass {owed} " +
            $"(each channel of a pass sends its PassEnd before anything of the next pass)");
    }

    /// <summary>How long an extra channel's data waits for its pass's PassBegin to be read on the main connection.</summary>
    public static readonly TimeSpan PassBeginGrace = TimeSpan.FromSeconds(10);

    public void Dispose() => decoders.Dispose();
}
