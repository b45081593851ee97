using Tern.Machine;
using Tern.Machine.Kvm;

namespace Tern.Bench.Macro;

/// <summary>A machine backend and dirty-tracking mechanism to measure, and whether this host can run it.</summary>
public sealed record MachineBackendChoice(string Name, MachineHostOptions Host)
{
    public static readonly MachineBackendChoice Sim = new("sim (software tracker)", new MachineHostOptions { Backend = MachineBackend.Sim });
    public static readonly MachineBackendChoice KvmLog = new("kvm dirty log (manual protect)", new MachineHostOptions { Backend = MachineBackend.Kvm, DirtyTracking = DirtyTrackingKind.Log });
    public static readonly MachineBackendChoice KvmRing = new("kvm dirty ring", new MachineHostOptions { Backend = MachineBackend.Kvm, DirtyTracking = DirtyTrackingKind.Ring });

    public bool NeedsKvm => Host.Backend == MachineBackend.Kvm;

    /// <summary>Null when the backend can run here; else why not, for a "skipped" line.</summary>
    public string? Unavailable => NeedsKvm && !global::Tern.Kvm.Kvm.IsPresent ? "/dev/kvm absent" : null;
}
