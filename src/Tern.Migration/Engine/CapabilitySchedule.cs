using Tern.Migration.Protocol;

namespace Tern.Migration.Engine;

/// <summary>
/// The destination's record of which negotiated capabilities the source has switched on or off (SetCapability) and
/// from which pass, so that a page record of a kind the source announced off is rejected rather than applied.
/// Everything negotiated counts as on until the source switches it off.
/// </summary>
/// <remarks>
/// SetCapability arrives on the main connection just before the PassBegin of the pass it applies to, so a switch
/// recorded while pass p is the last begun applies from pass p + 1. Pages of a pass arrive on the other channels and
/// may be applied before the main thread has read that pass's PassBegin (a channel waits only for the previous pass
/// to end everywhere); for such a pass not every switch is known yet, so only what was negotiated is checked.
/// Written by the main receive thread, read by every channel thread: the list is replaced, never changed in place.
/// </remarks>
internal sealed class CapabilitySchedule(ProtocolCapability negotiated, PassBarrier barrier)
{
    private readonly Lock gate = new();
    private Switch[] switches = [];

    public ProtocolCapability Negotiated => negotiated;

    /// <summary>A SetCapability received now: it applies from the pass after the last one begun.</summary>
    public void Record(ProtocolCapability capability, bool on)
    {
        uint fromPass = barrier.LastBegun + 1;
        lock (gate) switches = [.. switches, new Switch(fromPass, capability, on)];
    }

    /// <summary>The capabilities a record of <paramref name="pass"/> may use.</summary>
    public ProtocolCapability AllowedIn(uint pass)
    {
        if (pass > barrier.LastBegun) return negotiated; // its switches may not all be read yet (see remarks)
        var allowed = negotiated;
        foreach (var s in Volatile.Read(ref switches))
        {
            if (s.FromPass > pass) break;
            allowed = s.On ? allowed | s.Capability : allowed & ~s.Capability;
        }
        return allowed & negotiated;
    }

    /// <summary>The pass from which <paramref name="capability"/> is off for <paramref name="pass"/>, for error messages.</summary>
    public uint? SwitchedOffFrom(ProtocolCapability capability, uint pass)
    {
        uint? from = null;
        foreach (var s in Volatile.Read(ref switches))
        {
            if (s.FromPass > pass) break;
            if ((s.Capability & capability) != 0) from = s.On ? null : s.FromPass;
        }
        return from;
    }

    private readonly record struct Switch(uint FromPass, ProtocolCapability Capability, bool On);
}
