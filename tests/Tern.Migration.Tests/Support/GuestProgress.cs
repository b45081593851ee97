using Tern.Machine;
using Tern.Machine.Sim;

namespace Tern.Migration.Tests.Support;

/// <summary>Whether a simulated guest is really running: its per-vCPU progress counters keep increasing.</summary>
internal static class GuestProgress
{
    /// <summary>Asserts that the machine runs and that every vCPU's counter increases within a few seconds.</summary>
    public static void AssertRunning(IVirtualMachine machine, string context)
    {
        Assert.True(machine.State == MachineRunState.Running, $"the source VM is {machine.State}, not running; {context}");
        var sim = Assert.IsType<SimMachine>(machine);
        var before = sim.ReadCounters();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (true)
        {
            Thread.Sleep(50);
            var now = sim.ReadCounters();
            if (Enumerable.Range(0, now.Length).All(v => now[v] > before[v])) return;
            Assert.True(DateTime.UtcNow < deadline,
                $"the source VM's counters did not increase ({string.Join(",", before)} -> {string.Join(",", now)}); {context}");
        }
    }

    /// <summary>Waits until every vCPU's counter has reached <paramref name="atLeast"/> (at most 30 s).</summary>
    public static void WaitUntil(IVirtualMachine machine, ulong atLeast)
    {
        var sim = Assert.IsType<SimMachine>(machine);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (sim.ReadCounters() is var now && now.Any(c => c < atLeast))
        {
            Assert.True(DateTime.UtcNow < deadline, $"the guest's counters reached only {string.Join(",", now)} of {atLeast} in 30 s");
            Thread.Sleep(20);
        }
    }
}
