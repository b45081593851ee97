using Tern.Machine;
using Tern.Memory;
using Tern.Memory.Dirty;

namespace Tern.Migration.Tests.Support;

/// <summary>
/// A machine whose Pause fails the way the KVM machine's does when a vCPU cannot be stopped: with the vCPU's error
/// inside the <see cref="AggregateException"/> of the Task.WaitAll over its vCPU threads. Everything else is the
/// wrapped machine's.
/// </summary>
internal sealed class PauseFailingMachine(IVirtualMachine inner, string vcpuError) : IVirtualMachine
{
    public MachineDescription Description => inner.Description;
    public IGuestMemory Memory => inner.Memory;
    public IDirtyTracker DirtyTracker => inner.DirtyTracker;
    public HeartbeatMonitor Heartbeats => inner.Heartbeats;
    public MachineRunState State => inner.State;
    public MachineFault? Fault => inner.Fault;

    public event Action<MachineFault>? Faulted
    {
        add => inner.Faulted += value;
        remove => inner.Faulted -= value;
    }

    public void Resume() => inner.Resume();

    public TimeSpan Pause()
    {
        var vcpu = Task.Run(() => throw new InvalidOperationException(vcpuError));
        Task.WaitAll(vcpu);
        return TimeSpan.Zero;
    }

    public byte[] SaveState() => inner.SaveState();
    public void RestoreState(ReadOnlySpan<byte> state) => inner.RestoreState(state);
    public void SetThrottle(int vcpu, double fraction) => inner.SetThrottle(vcpu, fraction);
    public double GetThrottle(int vcpu) => inner.GetThrottle(vcpu);
    public void Dispose() => inner.Dispose();
}
