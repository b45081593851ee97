using System.Diagnostics;
using Tern.Control.Host;
using Tern.Control.Qmp;
using Tern.Control.Tests.DirtyRate;
using Tern.Control.Tests.Support;
using Tern.Machine.Kvm;

namespace Tern.Control.Tests.DirtyLimit;

/// <summary>
/// set-vcpu-dirty-limit on a real KVM guest with the dirty ring and two vCPUs: vCPU 0 rewrites a 32 MiB working set
/// (about 33 MB/s of distinct pages a second under the limiter's 1 s measurement), vCPU 1 only computes. Each vCPU's
/// speed is its own progress counter in guest memory, read over the same QMP socket an operator uses.
/// </summary>
[Collection(KvmHostCollection.Name)]
public sealed class VcpuDirtyLimitOnKvmTests
{
    private const ulong Memory = 128 << 20;
    private const ulong WorkingSetPages = 32 << 8;
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_limit_slows_the_vcpu_that_dirties_leaves_the_computing_one_its_speed_and_cancel_restores_it()
    {
        using var host = KvmGuestHost.Start("seq:ws=32M;compute", Memory, DirtyTrackingKind.Ring, vcpus: 2);
        var machine = host.Machine!;
        var path = TestSocketPath.Create();
        await using var server = new QmpServer(path, host);
        server.Start();
        await using var qmp = await QmpClient.ConnectAsync(path, TestContext.Current.CancellationToken);
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        host.Log += log.Enqueue;
        // Past the first touches of fresh pages (slow here), so the speed before is the guest's steady speed.
        KvmGuestHost.WaitUntil(() => host.QueryGuest()!.Progress[0] > 4 * WorkingSetPages && host.QueryGuest()!.Progress[1] > 0, Patience, "both vCPUs run");
        Thread.Sleep(Window);

        var (before, runnableBefore) = Measure(host);
        await qmp.SetVcpuDirtyLimitAsync(0, 4, TestContext.Current.CancellationToken);
        KvmGuestHost.WaitUntil(() => machine.GetThrottle(0) > 0, Patience, "vCPU 0 is throttled to its limit");
        Thread.Sleep(VcpuDirtyLimitOnKvmTests.Window); // a period or two for the throttle to settle
        var (limited, runnableLimited) = Measure(host);
        var limits = await qmp.QueryVcpuDirtyLimitAsync(TestContext.Current.CancellationToken);
        double throttle = machine.GetThrottle(0);
        Assert.Equal(0, machine.GetThrottle(1));

        await qmp.CancelVcpuDirtyLimitAsync(0, TestContext.Current.CancellationToken);
        Assert.Equal(0, machine.GetThrottle(0));
        Assert.False(machine.DirtyTracker.IsTracking, "the dirty ring stayed on after the last limit was cancelled");
        Thread.Sleep(Window);
        var (after, runnableAfter) = Measure(host);

        string figures = $"vCPU 0 (dirties): {before[0]:0} -> {limited[0]:0} -> {after[0]:0} writes/s; " +
            $"vCPU 1 (computes): {before[1]:0} -> {limited[1]:0} -> {after[1]:0} iterations/s, runnable {runnableBefore[1]:P0} -> {runnableLimited[1]:P0}; " +
            $"vCPU 0 throttle {throttle:P0}, runnable {runnableBefore[0]:P0} -> {runnableLimited[0]:P0} -> {runnableAfter[0]:P0}";
        TestContext.Current.TestOutputHelper?.WriteLine(figures);
        foreach (var line in log) TestContext.Current.TestOutputHelper?.WriteLine(line);
        var limit = Assert.Single(limits);
        Assert.Equal((0, 4UL), (limit.CpuIndex, limit.LimitRate));
        Assert.True(limited[0] < 0.5 * before[0], $"the dirtying vCPU did not slow down: {figures}");
        // The computing vCPU is not held back: its thread stays runnable all the time, as before the limit. (Its
        // wall-clock speed moves with the rest of the machine's load: 0.63x in a CI run while other work ran, at the
        // same share. A throttle of every vCPU would cut the share by as much as vCPU 0's.)
        Assert.True(runnableLimited[1] > 0.85 * runnableBefore[1], $"the computing vCPU did not keep its speed: {figures}");
        // Cancelled: vCPU 0's thread no longer sleeps, it is runnable all the time again. (By wall-clock speed this
        // moved with the machine's load, and the limited window also holds the throttle's climb to its level.)
        Assert.True(runnableAfter[0] > 0.85 * runnableBefore[0] && runnableAfter[0] > runnableLimited[0] + 0.2,
            $"cancel did not restore the dirtying vCPU's speed: {figures}");
    }

    [Fact]
    public void A_limit_on_a_vm_without_the_dirty_ring_says_to_start_it_with_one()
    {
        using var host = KvmGuestHost.Start("seq:ws=8M", 64 << 20);
        var refused = Assert.Throws<VmControlException>(() => host.SetVcpuDirtyLimit(null, 10));
        Assert.Contains("start the VM with --dirty-tracking ring", refused.Message);
        Assert.False(host.Machine!.DirtyTracker.IsTracking);
        Assert.Empty(host.QueryVcpuDirtyLimit());
    }

    /// <summary>
    /// Each vCPU's progress per second over <see cref="Window"/>, and the share of the window its thread was runnable
    /// (on a core or waiting for one; <c>/proc/self/task/*/schedstat</c>). A throttle makes a vCPU sleep, which is the
    /// only time its thread is neither; other load on the host only makes it wait, so the share stays near 1 for a
    /// vCPU nobody throttles however busy the machine is, where its wall-clock speed does not.
    /// </summary>
    private static (double[] PerSecond, double[] RunnableShare) Measure(VmHost host)
    {
        int vcpus = host.QueryGuest()!.Progress.Count;
        var start = host.QueryGuest()!.Progress.ToArray();
        var runnableStart = Enumerable.Range(0, vcpus).Select(v => RunnableNs($"tern vCPU {v}")).ToArray();
        var clock = Stopwatch.StartNew();
        Thread.Sleep(Window);
        var end = host.QueryGuest()!.Progress.ToArray();
        var runnableEnd = Enumerable.Range(0, vcpus).Select(v => RunnableNs($"tern vCPU {v}")).ToArray();
        double seconds = clock.Elapsed.TotalSeconds;
        return (start.Select((s, i) => (double)(end[i] - s) / seconds).ToArray(),
            runnableStart.Select((r, i) => (runnableEnd[i] - r) / 1e9 / seconds).ToArray());
    }

    /// <summary>Nanoseconds the named thread of this process has spent on a core or waiting for one.</summary>
    private static long RunnableNs(string threadName)
    {
        foreach (var task in Directory.GetDirectories("/proc/self/task"))
        {
            string comm;
            try { comm = File.ReadAllText(Path.Combine(task, "comm")).Trim(); }
            catch (IOException) { continue; } // a thread that ended meanwhile
            if (comm != threadName) continue;
            var fields = File.ReadAllText(Path.Combine(task, "schedstat")).Split(' ');
            return long.Parse(fields[0]) + long.Parse(fields[1]);
        }
        throw new InvalidOperationException($"this process has no thread named '{threadName}'");
    }
}
