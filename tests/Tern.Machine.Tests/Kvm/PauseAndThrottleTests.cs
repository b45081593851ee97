using System.Diagnostics;
using Tern.Machine.Kvm;

namespace Tern.Machine.Tests.Kvm;

[Collection(KvmCollection.Name)]
public sealed class PauseAndThrottleTests
{
    [Fact]
    public void Pausing_a_busy_guest_takes_milliseconds_not_seconds()
    {
        RequireKvm.Present();
        var guest = new CounterGuest(2, 16 << 20, 64 << 20);
        using var machine = KvmMachine.Create(new KvmMachineOptions(64 << 20, 2));
        machine.Load(guest.Build());
        var latencies = new List<double>();
        for (int i = 0; i < 20; i++)
        {
            machine.Resume();
            Thread.Sleep(20);
            latencies.Add(machine.Pause().TotalMilliseconds);
            ulong c = guest.ReadCounter(machine.Memory, 0);
            Thread.Sleep(5);
            Assert.Equal(c, guest.ReadCounter(machine.Memory, 0)); // really stopped
        }
        latencies.Sort();
        // Generous bounds for a shared 2-core machine; the benchmark reports the real distribution.
        Assert.True(latencies[latencies.Count / 2] < 20, $"median pause {latencies[latencies.Count / 2]:0.00} ms");
        Assert.True(latencies[^1] < 500, $"worst pause {latencies[^1]:0.00} ms");
    }

    [Fact]
    public void A_half_throttle_roughly_halves_the_guest_progress_rate()
    {
        RequireKvm.Present();
        var guest = new CounterGuest(1, 16 << 20, 64 << 20);
        using var machine = KvmMachine.Create(new KvmMachineOptions(64 << 20, 1));
        machine.Load(guest.Build());
        machine.Resume();
        // Warm up: the first pass over fresh guest pages pays host page faults.
        MachineWait.Until(() => guest.ReadCounter(machine.Memory, 0) > guest.RegionPages * 3, TimeSpan.FromSeconds(10), "warm-up passes");

        // Alternate full-speed and throttled windows so that load from elsewhere on the host hits both alike.
        double full = 0, half = 0;
        for (int round = 0; round < 3; round++)
        {
            machine.SetThrottle(0, 0);
            full += Rate(machine, guest);
            machine.SetThrottle(0, 0.5);
            half += Rate(machine, guest);
        }
        machine.SetThrottle(0, 0);
        machine.Pause();

        double ratio = half / full;
        Assert.True(ratio is > 0.25 and < 0.75, $"50% throttle gave {ratio:0.00} of the unthrottled rate ({half / 3:0} vs {full / 3:0} writes/s)");
        Assert.Equal(0, machine.GetThrottle(0));
    }

    [Fact]
    public void Throttle_values_outside_0_to_0_99_are_refused()
    {
        RequireKvm.Present();
        using var machine = KvmMachine.Create(new KvmMachineOptions(16 << 20, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => machine.SetThrottle(0, 1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => machine.SetThrottle(0, -0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => machine.SetThrottle(0, double.NaN));
    }

    private static double Rate(KvmMachine machine, CounterGuest guest)
    {
        ulong start = guest.ReadCounter(machine.Memory, 0);
        var sw = Stopwatch.StartNew();
        Thread.Sleep(400);
        ulong end = guest.ReadCounter(machine.Memory, 0);
        return (end - start) / sw.Elapsed.TotalSeconds;
    }
}
