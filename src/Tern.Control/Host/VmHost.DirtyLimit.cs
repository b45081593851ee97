using Tern.Control.DirtyLimit;
using Tern.Control.DirtyRate;
using Tern.Machine;
using Tern.Migration.Api;
using Tern.Migration.Throttle;

namespace Tern.Control.Host;

/// <summary>
/// Per-vCPU dirty limits (<c>set-vcpu-dirty-limit</c>, <c>cancel-vcpu-dirty-limit</c>, <c>query-vcpu-dirty-limit</c>).
/// The dirty tracker has one owner at a time: the limiter while limits are set and no migration runs, a migration
/// while it runs (it keeps applying the limits from its own syncs), or a <c>calc-dirty-rate</c> measurement (refused
/// in a tracking mode while limits are set, and a limit refused while such a measurement runs). Every hand-over
/// happens under the host's gate.
/// </summary>
public sealed partial class VmHost
{
    private VcpuDirtyLimiter? dirtyLimiter;
    private bool dirtyLimitsLogged;
    private bool dirtyLimiterClosed;

    /// <summary><c>set-vcpu-dirty-limit</c>: limits one vCPU (or every vCPU when <paramref name="cpuIndex"/> is null) to <paramref name="megabytesPerSecond"/>.</summary>
    public void SetVcpuDirtyLimit(long? cpuIndex, ulong megabytesPerSecond)
    {
        lock (gate)
        {
            SettleOutgoing();
            var m = MachineForDirtyLimit(cpuIndex);
            if (megabytesPerSecond == 0)
                throw new VmControlException("dirty-rate must be at least 1 MB/s (a limit of 0 would stop the vCPU); cancel-vcpu-dirty-limit removes a limit");
            if (!m.DirtyTracker.ReportsPerVcpu)
                throw new VmControlException($"a dirty limit needs each vCPU's dirty rate, which {m.DirtyTracker.Name} cannot tell apart: start the VM with --dirty-tracking ring");
            if (runState == RunState.PostMigrate)
                throw new VmControlException("the VM was migrated away and runs on the destination; set the limit there");
            if (dirtyRateMeter is { UsesDirtyTracking: true } meter)
                throw new VmControlException($"a dirty-rate measurement (calc-dirty-rate, mode {meter.Info.Mode.ToQapi()}) is using the dirty ring for {meter.Info.CalcTimeSeconds} s; " +
                    "set the limit once query-dirty-rate says measured");
            ObserveDirtyLimits();
            Settings.DirtyLimits.Set(m, (int?)cpuIndex, megabytesPerSecond);
            if (ResumeDirtyLimiter() is { } problem)
            {
                // A limit nothing measures would never bite: take it back and say why.
                Settings.DirtyLimits.Cancel(m, (int?)cpuIndex);
                throw new VmControlException(problem);
            }
        }
    }

    /// <summary><c>cancel-vcpu-dirty-limit</c>: removes one vCPU's limit (or all) and its throttle at once; tracking stops with the last limit.</summary>
    public void CancelVcpuDirtyLimit(long? cpuIndex)
    {
        lock (gate)
        {
            SettleOutgoing();
            // As in QEMU, cancelling where nothing was ever limited is not an error, but a wrong cpu-index is.
            if (machine is null && cpuIndex is null) return;
            var m = MachineForDirtyLimit(cpuIndex);
            Settings.DirtyLimits.Cancel(m, (int?)cpuIndex);
            if (!Settings.DirtyLimits.Any) dirtyLimiter?.Stop();
        }
    }

    /// <summary><c>query-vcpu-dirty-limit</c>: the vCPUs with a limit, each with its current dirty rate.</summary>
    public IReadOnlyList<VcpuDirtyLimit> QueryVcpuDirtyLimit()
    {
        lock (gate) return machine is null ? [] : Settings.DirtyLimits.Query();
    }

    /// <summary>True while the limiter owns the dirty tracker (tests and calc-dirty-rate read it).</summary>
    public bool DirtyLimiterRunning
    {
        get { lock (gate) return dirtyLimiter?.IsRunning == true; }
    }

    private IVirtualMachine MachineForDirtyLimit(long? cpuIndex)
    {
        if (machine is not { } m) throw new VmControlException("there is no guest here yet (it is being migrated in)");
        int vcpus = m.Description.VcpuCount;
        if (cpuIndex is { } index && (index < 0 || index >= vcpus))
            throw new VmControlException($"incorrect cpu-index {index}: this VM has {(vcpus == 1 ? "vCPU 0 only" : $"vCPUs 0 to {vcpus - 1}")}");
        return m;
    }

    /// <summary>
    /// Starts the limiter when limits are set, the VM is here and no migration owns the tracker. Call with the gate
    /// held: after a limit is set, and when an outgoing migration ends with the VM still here. Returns why it could
    /// not start, or null.
    /// </summary>
    private string? ResumeDirtyLimiter()
    {
        if (machine is not { } m || !Settings.DirtyLimits.Any || runState == RunState.PostMigrate || dirtyLimiterClosed) return null;
        if (outgoing is not null && !outgoingSettled) return null; // the migration owns the tracker and applies the limits itself
        dirtyLimiter ??= new VcpuDirtyLimiter(m, Settings.DirtyLimits, line => Log?.Invoke(line));
        try
        {
            dirtyLimiter.Start();
            return null;
        }
        catch (Exception e) when (e is InvalidOperationException or Tern.Os.OsException)
        {
            string problem = $"could not turn dirty tracking on for the dirty limit: {e.Message}";
            Log?.Invoke(problem);
            return problem;
        }
    }

    /// <summary>Hands the dirty tracker from the limiter to a migration that is about to start. Call with the gate held.</summary>
    private void SuspendDirtyLimiter() => dirtyLimiter?.Stop();

    /// <summary>Refuses a tracking-mode calc-dirty-rate while the limiter owns the dirty ring. Call with the gate held.</summary>
    private void EnsureNoDirtyLimiter()
    {
        if (dirtyLimiter?.IsRunning == true)
            throw new VmControlException("per-vCPU dirty limits are set (set-vcpu-dirty-limit) and measure with the dirty ring themselves: " +
                "query-vcpu-dirty-limit shows each limited vCPU's current dirty rate; measure with mode page-sampling, or after cancel-vcpu-dirty-limit");
    }

    private void ObserveDirtyLimits()
    {
        if (dirtyLimitsLogged) return;
        dirtyLimitsLogged = true;
        Settings.DirtyLimits.Changed += line => Log?.Invoke(line);
    }

    /// <summary>Stops the limiter for good (the host is going), so tracking is off before the machine is disposed.</summary>
    private void StopDirtyLimiter()
    {
        lock (gate)
        {
            dirtyLimiterClosed = true;
            dirtyLimiter?.Stop();
        }
    }
}
