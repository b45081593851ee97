using Tern.Migration.Protocol;

namespace Tern.Migration.Engine;

/// <summary>
/// Keeps passes in order on the destination when pages arrive over several connections: a channel applies pages of
/// pass p only once every channel has finished pass p-1, so an older copy of a page can never overwrite a newer one
/// (and an XBZRLE delta always meets the page it was encoded against). Also checks each channel's record count.
/// </summary>
internal sealed class PassBarrier
{
    private readonly object gate = new();
    private readonly Dictionary<uint, int> channelsOfPass = [];
    private readonly Dictionary<uint, HashSet<int>> done = [];
    private uint lastBegun;
    private uint completed;
    private Exception? broken;

    public uint Completed { get { lock (gate) return completed; } }
    public uint LastBegun { get { lock (gate) return lastBegun; } }

    /// <summary>PassBegin on the main channel: passes are numbered 1, 2, 3, ... without gaps.</summary>
    public void Begin(uint pass, int channels, int openChannels)
    {
        lock (gate)
        {
            if (pass != lastBegun + 1) throw new ProtocolException($"PassBegin for pass {pass} after pass {lastBegun}: passes must follow each other");
            if (channels < 1 || channels > openChannels)
                throw new ProtocolException($"pass {pass} claims {channels} channels but {openChannels} are open");
            lastBegun = pass;
            channelsOfPass[pass] = channels;
            Monitor.PulseAll(gate);
            TryComplete();
        }
    }

    /// <summary>PassEnd on <paramref name="channel"/>.</summary>
    public void ChannelDone(uint pass, int channel)
    {
        lock (gate)
        {
            if (!done.TryGetValue(pass, out var set)) done[pass] = set = [];
            if (!set.Add(channel)) throw new ProtocolException($"channel {channel} ended pass {pass} twice");
            if (pass <= completed) throw new ProtocolException($"channel {channel} ended pass {pass}, which had already ended on every channel");
            TryComplete();
        }
    }

    /// <summary>
    /// Waits up to <paramref name="patience"/> for PassBegin of <paramref name="pass"/> (zero: only checks); false if it
    /// has not begun by then.
    /// </summary>
    public bool WaitBegun(uint pass, TimeSpan patience, CancellationToken cancel)
    {
        var deadline = DateTime.UtcNow + patience;
        lock (gate)
        {
            while (lastBegun < pass)
            {
                if (broken is not null) throw new OperationCanceledException("the migration failed", broken);
                cancel.ThrowIfCancellationRequested();
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero) return false;
                Monitor.Wait(gate, left < TimeSpan.FromMilliseconds(100) ? left : TimeSpan.FromMilliseconds(100));
            }
            return true;
        }
    }

    /// <summary>Blocks until pass <paramref name="pass"/> has ended on every channel it used (pass 0: at once).</summary>
    public void WaitCompleted(uint pass, CancellationToken cancel) => WaitCompleted(pass, Timeout.InfiniteTimeSpan, cancel);

    /// <summary>
    /// Waits up to <paramref name="patience"/> (infinite: <see cref="Timeout.InfiniteTimeSpan"/>) for pass
    /// <paramref name="pass"/> to end on every channel it used; false if it has not by then.
    /// </summary>
    public bool WaitCompleted(uint pass, TimeSpan patience, CancellationToken cancel)
    {
        var deadline = patience == Timeout.InfiniteTimeSpan ? DateTime.MaxValue : DateTime.UtcNow + patience;
        lock (gate)
        {
            while (completed < pass)
            {
                if (broken is not null) throw new OperationCanceledException("the migration failed", broken);
                cancel.ThrowIfCancellationRequested();
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero) return false;
                Monitor.Wait(gate, left < TimeSpan.FromMilliseconds(100) ? left : TimeSpan.FromMilliseconds(100));
            }
            return true;
        }
    }

    /// <summary>
    /// The first pass before <paramref name="pass"/> that used <paramref name="channel"/> and that the channel has not
    /// ended, or null. A channel's frames arrive in order, so while it owes such a pass its data of a later pass can
    /// never be applied (it would wait for the channel's own PassEnd, which comes after it): a protocol error, not a
    /// wait. Costs one step per pass begun and not yet ended everywhere.
    /// </summary>
    public uint? UnendedBefore(uint pass, int channel)
    {
        lock (gate)
        {
            for (uint q = completed + 1; q < pass && q <= lastBegun; q++)
            {
                if (channelsOfPass.TryGetValue(q, out int n) && channel < n && !(done.TryGetValue(q, out var set) && set.Contains(channel)))
                    return q;
            }
            return null;
        }
    }

    /// <summary>The channels that <paramref name="pass"/> used and that have not ended it yet (none once it has ended everywhere).</summary>
    public IReadOnlyList<int> ChannelsOwing(uint pass)
    {
        lock (gate)
        {
            if (pass <= completed || !channelsOfPass.TryGetValue(pass, out int n)) return [];
            done.TryGetValue(pass, out var set);
            return Enumerable.Range(0, n).Where(c => set is null || !set.Contains(c)).ToList();
        }
    }

    /// <summary>Wakes every waiter with a failure.</summary>
    public void Break(Exception reason)
    {
        lock (gate)
        {
            broken ??= reason;
            Monitor.PulseAll(gate);
        }
    }

    private void TryComplete()
    {
        while (channelsOfPass.TryGetValue(completed + 1, out int n) && done.TryGetValue(completed + 1, out var set) && set.Count >= n)
        {
            if (set.Any(c => c >= n)) throw new ProtocolException($"pass {completed + 1} ended on channel {set.Max()}, which it did not use ({n} channels)");
            completed++;
            channelsOfPass.Remove(completed);
            done.Remove(completed);
            Monitor.PulseAll(gate);
        }
    }
}
