using System.Diagnostics;
using Tern.Migration.Protocol;

namespace Tern.Migration.Engine.Source;

/// <summary>
/// The last pass the destination said is in its guest RAM (PassApplied, with <c>pass-applied</c>), for the switchover
/// to wait on: pausing the guest while the destination still applies earlier passes would add that backlog to the
/// downtime (docs/benchmarks.md: 65 ms on a quiet machine for seq with XBZRLE at 100 MiB/s). Thread-safe: the return
/// path records, the migration thread waits.
/// </summary>
internal sealed class AppliedPasses
{
    private readonly object gate = new();
    private uint applied;

    public uint Last { get { lock (gate) return applied; } }

    /// <summary>Records a PassApplied; a pass not sent yet, or not newer than the last, is a protocol violation.</summary>
    public ProtocolException? Record(uint pass, uint sent)
    {
        lock (gate)
        {
            if (pass > sent || pass <= applied)
                return new ProtocolException($"the destination said pass {pass} is applied, but the source has sent passes up to {sent} " +
                    $"and was told of pass {applied} already");
            applied = pass;
            Monitor.PulseAll(gate);
            return null;
        }
    }

    /// <summary>Waits until <paramref name="pass"/> is applied; false when <paramref name="patience"/> ran out first.</summary>
    public bool WaitFor(uint pass, TimeSpan patience, CancellationToken cancel)
    {
        long started = Stopwatch.GetTimestamp();
        lock (gate)
        {
            while (applied < pass)
            {
                cancel.ThrowIfCancellationRequested();
                var left = patience - Stopwatch.GetElapsedTime(started);
                if (left <= TimeSpan.Zero) return false;
                // In slices, so a cancel is seen without a pulse.
                Monitor.Wait(gate, left < TimeSpan.FromMilliseconds(10) ? left : TimeSpan.FromMilliseconds(10));
            }
            return true;
        }
    }
}
