using Tern.Control.DirtyRate;
using Tern.Migration.Api;

namespace Tern.Control.Host;

public sealed partial class VmHost
{
    private DirtyRateMeter? dirtyRateMeter;

    private DirtyRateMeter DirtyRate => dirtyRateMeter ??= new DirtyRateMeter(line => Log?.Invoke(line));

    /// <summary>
    /// <c>calc-dirty-rate</c>: starts measuring the guest's dirty rate and returns at once. Page sampling (the default)
    /// reads pages and costs the guest nothing; the dirty-bitmap and dirty-ring modes turn dirty tracking on for the
    /// window only, so they are refused while a migration uses it (and a migration is refused while they do).
    /// </summary>
    public void CalcDirtyRate(DirtyRateRequest request)
    {
        lock (gate)
        {
            SettleOutgoing();
            if (machine is not { } m || runState == RunState.InMigrate)
                throw new VmControlException("there is no guest here yet to measure (it is being migrated in)");
            if (PagesMissingHere)
                throw new VmControlException("some of this guest's pages are still on the source (post-copy): measure once they have all arrived");
            if (request.Mode != DirtyRateMode.PageSampling && outgoing is { } o && !o.Status.IsFinished())
                throw new VmControlException($"a migration is using dirty tracking; measure with mode page-sampling, which does not need it, or after the migration");
            if (request.Mode != DirtyRateMode.PageSampling) EnsureNoDirtyLimiter();
            DirtyRate.Begin(m, request);
        }
    }

    /// <summary><c>query-dirty-rate</c>: the current or last measurement.</summary>
    public DirtyRateInfo QueryDirtyRate()
    {
        lock (gate) return DirtyRate.Info;
    }

    /// <summary>Refuses to start a migration while a measurement owns the dirty tracker. Call with the gate held.</summary>
    private void EnsureDirtyTrackerFree()
    {
        if (dirtyRateMeter is { UsesDirtyTracking: true } meter)
            throw new VmControlException($"a dirty-rate measurement (mode {meter.Info.Mode.ToQapi()}) is using dirty tracking for {meter.Info.CalcTimeSeconds} s; " +
                "start the migration once query-dirty-rate says measured");
    }
}
