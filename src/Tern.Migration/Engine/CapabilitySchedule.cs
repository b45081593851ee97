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
/// The record is one step per pass whose set differs from the pass before, not the history of switches: a source may
/// send any number of SetCapability messages, and each costs the same small, constant work (once it cost a copy of
/// every switch before it: 160,000 switches took minutes of CPU). Written by the main receive thread, read by every
/// channel thread.
/// </remarks>
internal sealed class CapabilitySchedule(ProtocolCapability negotiated, PassBarrier barrier)
{
    private readonly Lock gate = new();
    private readonly List<Step> steps = [];          // in pass order, each set differs from the one before it
    private uint announcedPass;                          // the pass the switches in `announced` apply from
    private ProtocolCapability announced;                // what the source switched (either way) for that pass
    private ProtocolCapability reported, reportedOn;     // what has been reported, and which of those as on

    public ProtocolCapability Negotiated => negotiated;

    /// <summary>A SetCapability received now: it applies from the pass after the last one begun.</summary>
    public void Record(ProtocolCapability capability, bool on)
    {
        uint fromPass = barrier.LastBegun + 1;
        lock (gate)
        {
            if (announcedPass != fromPass) (announcedPass, announced) = (fromPass, ProtocolCapability.None);
            announced |= capability & negotiated;
            bool open = steps.Count > 0 && steps[^1].FromPass == fromPass; // this pass already has its own step
            var before = open ? SetBefore(steps.Count - 1) : Current;
            var after = (on ? Current | capability : Current & ~capability) & negotiated;
            if (open) steps.RemoveAt(steps.Count - 1);
            if (after != before) steps.Add(new Step(fromPass, after));
        }
    }

    /// <summary>The capabilities a record of <paramref name="pass"/> may use.</summary>
    public ProtocolCapability AllowedIn(uint pass)
    {
        if (pass > barrier.LastBegun) return negotiated; // its switches may not all be read yet (see remarks)
        lock (gate)
        {
            int i = StepOf(pass);
            return i < 0 ? negotiated : steps[i].Allowed;
        }
    }

    /// <summary>
    /// What the source switched for <paramref name="pass"/> that was not reported so before, and how it stands (call
    /// once, when its PassBegin is read and its switches are all known): for at most one log line per pass, however
    /// many switches the source sent. A capability the source switches on is reported once, though everything
    /// negotiated counted as on already.
    /// </summary>
    public (ProtocolCapability On, ProtocolCapability Off) TakeNewlyReported(uint pass)
    {
        lock (gate)
        {
            if (announcedPass != pass || announced == ProtocolCapability.None) return default;
            int i = StepOf(pass);
            var allowed = i < 0 ? negotiated : steps[i].Allowed;
            var on = announced & allowed;
            var off = announced & ~allowed;
            var newlyOn = on & ~(reported & reportedOn);
            var newlyOff = off & ~(reported & ~reportedOn);
            reported |= announced;
            reportedOn = (reportedOn | on) & ~off;
            announced = ProtocolCapability.None;
            return (newlyOn, newlyOff);
        }
    }

    /// <summary>The pass from which <paramref name="capability"/> is off for <paramref name="pass"/>, for error messages.</summary>
    public uint? SwitchedOffFrom(ProtocolCapability capability, uint pass)
    {
        lock (gate)
        {
            int i = StepOf(pass);
            if (i < 0 || (steps[i].Allowed & capability) != 0) return null;
            while (i > 0 && (steps[i - 1].Allowed & capability) == 0) i--;
            return steps[i].FromPass;
        }
    }

    private ProtocolCapability Current => steps.Count > 0 ? steps[^1].Allowed : negotiated;

    private ProtocolCapability SetBefore(int step) => step > 0 ? steps[step - 1].Allowed : negotiated;

    /// <summary>The index of the step in force in <paramref name="pass"/>, or -1 before the first step.</summary>
    private int StepOf(uint pass)
    {
        int low = 0, high = steps.Count - 1, found = -1;
        while (low <= high)
        {
            int mid = (low + high) >>> 1;
            if (steps[mid].FromPass <= pass) { found = mid; low = mid + 1; }
            else high = mid - 1;
        }
        return found;
    }

    private readonly record struct Step(uint FromPass, ProtocolCapability Allowed);
}
