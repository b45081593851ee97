using System.Diagnostics;
using Tern.Control.Host;
using Tern.Guest;
using Tern.Machine;
using Tern.Machine.Kvm;

namespace Tern.Control.Tests.DirtyRate;

/// <summary>KVM tests of the VM host run one at a time: on two cores, parallel guests would take each other's CPU.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class KvmHostCollection
{
    public const string Name = "VM hosts on real KVM guests";
}

/// <summary>A VM host running a built-in workload on real KVM (the test skips, saying so, without /dev/kvm).</summary>
internal static class KvmGuestHost
{
    public static VmHost Start(string workload, ulong memory, DirtyTrackingKind tracking = DirtyTrackingKind.Log, int vcpus = 1)
    {
        Assert.SkipUnless(global::Tern.Kvm.Kvm.IsPresent, "skipped: /dev/kvm is absent on this host, so no real VM can run");
        var options = new MachineHostOptions { Backend = MachineBackend.Kvm, DirtyTracking = tracking };
        var host = new VmHost(MachineBuilder.Boot(GuestWorkload.Parse(workload), memory, vcpus, options), options);
        host.Start();
        return host;
    }

    public static ulong Progress(VmHost host) => host.QueryGuest()!.Progress.Aggregate(0UL, (sum, c) => sum + c);

    public static void WaitUntil(Func<bool> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < timeout, $"timed out after {timeout.TotalSeconds:0} s waiting until {what}");
            Thread.Sleep(10);
        }
    }
}
