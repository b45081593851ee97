using System.Diagnostics;
using Tern.Guest;
using Tern.Migration.Api;

namespace Tern.Control.Host;

public sealed partial class VmHost
{
    /// <summary>
    /// <c>x-check-guest</c>. The counters and RAM are read in one pause, so the model sees one consistent moment; the
    /// pause is brief (the check runs at memory speed) and is not a run-state change, so no STOP or RESUME is raised.
    /// The host's lock is held throughout, so no migration can start while the guest is held.
    /// </summary>
    public GuestCheck CheckGuest(int maxMismatches)
    {
        lock (gate)
        {
            SettleOutgoing();
            if (runState == RunState.InMigrate)
                throw new VmControlException("the VM is being migrated in and is not running here yet; check it once query-status says running");
            if (machine is not { } m) throw new VmControlException("there is no guest here");
            // Reading a page that has not arrived would block this thread in the kernel, where a GC cannot stop it.
            if (arrivedFrom is { PostcopyMissingPages: > 0 and var missing })
                throw new VmControlException($"the guest arrived in post-copy and {missing} of its pages are still on the source; check it once query-migrate says completed");
            if ((outgoing is { } o && !o.Status.IsFinished()) || runState == RunState.FinishMigrate)
                throw new VmControlException("a migration is moving this guest; check it once the migration has finished (query-migrate)");
            if (runState is not (RunState.Running or RunState.Paused or RunState.Prelaunch or RunState.PostMigrate))
                throw new VmControlException($"the guest cannot be checked in state {runState.ToQapi()}{(note is null ? "" : $": {note}")}");
            if (!ReferenceEquals(m, sampledMachine)) StartSampling(m);
            if (model is null) throw new VmControlException($"the workload '{m.Description.Workload}' has no model to check the guest against");

            bool wasRunning = runState == RunState.Running;
            long pausedAt = Stopwatch.GetTimestamp();
            if (wasRunning) m.Pause();
            try
            {
                var reader = new GuestMemoryPageReader(m.Memory);
                var counters = model.ReadCounters(ref reader);
                var report = model.Verify(ref reader, counters, maxMismatches);
                return new GuestCheck(m.Description.Workload, counters, report, wasRunning ? Stopwatch.GetElapsedTime(pausedAt) : TimeSpan.Zero);
            }
            finally
            {
                if (wasRunning) m.Resume();
            }
        }
    }
}
