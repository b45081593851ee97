using Tern.Guest;
using Tern.Machine.Sim;
using Tern.Memory;

namespace Tern.Machine.Tests.Sim;

public sealed class SimPauseResumeTests
{
    [Fact]
    public async Task Pausing_right_after_resuming_never_hangs_and_the_guest_stays_exact()
    {
        var machine = SimMachine.Create(new SimMachineOptions(64UL << 20, 2, WorkloadSpec.Parse("seq:ws=8M")));

        // A resume followed at once by a pause is what a migration's switchover does to a freshly started guest;
        // it must never leave Pause waiting for a vCPU thread that missed its wake-up.
        var ct = TestContext.Current.CancellationToken;
        var flips = Task.Run(() =>
        {
            for (int i = 0; i < 2000; i++)
            {
                machine.Resume();
                machine.Pause();
            }
        }, ct);
        var finished = await Task.WhenAny(flips, Task.Delay(TimeSpan.FromSeconds(60), ct));
        // A hung machine cannot be disposed (its lock is held by the stuck Pause): fail without waiting for it.
        Assert.True(finished == flips, "Pause hung after a Resume");
        await flips;
        using var _ = machine;

        var before = machine.ReadCounters();
        machine.Resume();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < deadline && machine.ReadCounters().Zip(before).Any(c => c.First <= c.Second)) Thread.Sleep(10);
        machine.Pause();
        var after = machine.ReadCounters();
        for (int v = 0; v < after.Length; v++) Assert.True(after[v] > before[v], $"vCPU {v} runs again after the flips");
        var report = machine.Model.Verify(machine.Ram.GetSpan(GuestAddress.Zero, (int)machine.Ram.Size), after);
        Assert.True(report.IsExact, report.ToString());
    }
}
