using System.Diagnostics;
using Tern.Control.DirtyRate;
using Tern.Control.Host;
using Tern.Machine.Kvm;
using Tern.Memory;

namespace Tern.Control.Tests.DirtyRate;

/// <summary>
/// calc-dirty-rate on real KVM guests that dirty memory at a known rate (<c>rate=16</c>: 16 MiB of distinct pages a
/// second, each write to the next page of a 64 MiB working set, so any window shorter than 4 s sees distinct pages only).
/// Measurements start after one pass, so no first touch of a fresh page (slow, and slower with huge pages) slows the guest. Page sampling never turns dirty tracking on; the tracking modes turn it on for the window only.
/// </summary>
[Collection(KvmHostCollection.Name)]
public sealed class CalcDirtyRateOnKvmTests
{
    private const string KnownRate = "seq:ws=64M,rate=16";
    private const ulong WorkingSetPages = 64 << 8;
    private const ulong Memory = 1UL << 30;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public void Page_sampling_measures_the_known_rate_without_dirty_tracking_and_reports_its_progress()
    {
        using var host = KvmGuestHost.Start(KnownRate, Memory);
        var tracker = host.Machine!.DirtyTracker;
        KvmGuestHost.WaitUntil(() => KvmGuestHost.Progress(host) > WorkingSetPages, Patience, "one pass over the working set");
        Assert.Equal(DirtyRateStatus.Unstarted, host.QueryDirtyRate().Status);

        var (measured, truth) = Measure(host, new DirtyRateRequest(1, 4096));

        Assert.False(tracker.IsTracking, "page sampling turned dirty tracking on");
        Assert.Equal(DirtyRateMode.PageSampling, measured.Mode);
        Assert.Equal(4096, measured.SamplePages);
        Assert.Equal(4096, measured.SampledPages); // 4096 per GiB of a 1 GiB guest
        Assert.Equal(1, measured.CalcTimeSeconds);
        Assert.InRange(measured.WindowMs!.Value, 1000, 5000);
        Assert.InRange(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - measured.StartTimeSeconds, 0, 30);
        AssertNear(measured, truth);
    }

    [Fact]
    public void Dirty_bitmap_mode_tracks_only_for_its_window_and_keeps_migrations_off_the_tracker_meanwhile()
    {
        using var host = KvmGuestHost.Start(KnownRate, Memory);
        var tracker = host.Machine!.DirtyTracker;
        KvmGuestHost.WaitUntil(() => KvmGuestHost.Progress(host) > WorkingSetPages, Patience, "one pass over the working set");

        var (measured, truth) = Measure(host, new DirtyRateRequest(2, null, DirtyRateMode.DirtyBitmap), during: () =>
        {
            Assert.True(tracker.IsTracking, "the dirty log is on during a dirty-bitmap measurement");
            var refused = Assert.Throws<VmControlException>(() => host.StartMigration("tcp:127.0.0.1:1"));
            Assert.Contains("dirty-rate measurement (mode dirty-bitmap) is using dirty tracking", refused.Message);
        });

        Assert.False(tracker.IsTracking, "the dirty log stayed on after the measurement");
        Assert.Equal(DirtyRateMode.DirtyBitmap, measured.Mode);
        Assert.Equal(0, measured.SamplePages);
        Assert.Null(measured.SampledPages);
        AssertNear(measured, truth);
    }

    [Fact]
    public void Dirty_ring_mode_reports_each_vcpu_and_needs_a_ring_guest()
    {
        using (var logGuest = KvmGuestHost.Start("idle", 64 << 20))
        {
            var refused = Assert.Throws<VmControlException>(() => logGuest.CalcDirtyRate(new DirtyRateRequest(1, null, DirtyRateMode.DirtyRing)));
            Assert.Contains("mode dirty-ring needs KVM's dirty rings", refused.Message);
            Assert.Equal(DirtyRateStatus.Unstarted, logGuest.QueryDirtyRate().Status);
        }

        using var host = KvmGuestHost.Start(KnownRate, Memory, DirtyTrackingKind.Ring);
        var tracker = host.Machine!.DirtyTracker;
        KvmGuestHost.WaitUntil(() => KvmGuestHost.Progress(host) > WorkingSetPages, Patience, "one pass over the working set");
        Assert.Contains("dirty-bitmap is not available", Assert.Throws<VmControlException>(
            () => host.CalcDirtyRate(new DirtyRateRequest(1, null, DirtyRateMode.DirtyBitmap))).Message);

        var (measured, truth) = Measure(host, new DirtyRateRequest(1, null, DirtyRateMode.DirtyRing),
            during: () => Assert.True(tracker.IsTracking));

        Assert.False(tracker.IsTracking, "the dirty rings stayed on after the measurement");
        var perVcpu = Assert.Single(measured.VcpuDirtyRatesMib!);
        Assert.Equal(measured.DirtyRateMib, perVcpu);
        AssertNear(measured, truth);
    }

    /// <summary>
    /// Runs one measurement through the VM host, checking the status on the way (measuring at once, a second request
    /// refused meanwhile, measured at the end); returns it with the guest's own rate over the same time, in MiB/s.
    /// </summary>
    private static (DirtyRateInfo Measured, double TruthMib) Measure(VmHost host, DirtyRateRequest request, Action? during = null)
    {
        ulong before = KvmGuestHost.Progress(host);
        var clock = Stopwatch.StartNew();
        host.CalcDirtyRate(request);
        Assert.Equal(DirtyRateStatus.Measuring, host.QueryDirtyRate().Status);
        Assert.Contains("already being measured", Assert.Throws<VmControlException>(() => host.CalcDirtyRate(request)).Message);
        during?.Invoke();
        KvmGuestHost.WaitUntil(() => host.QueryDirtyRate().Status == DirtyRateStatus.Measured, Patience, "the measurement ends");
        double seconds = clock.Elapsed.TotalSeconds;
        ulong writes = KvmGuestHost.Progress(host) - before;
        // seq writes one distinct page per write until it wraps (4 s at this rate).
        return (host.QueryDirtyRate(), writes * (double)PageSize.Bytes / (1 << 20) / seconds);
    }

    private static void AssertNear(DirtyRateInfo measured, double truthMib)
    {
        Assert.NotNull(measured.DirtyRateMib);
        Assert.True(truthMib > 4, $"the guest wrote only {truthMib:0.0} MiB/s; the test needs it near its 16 MiB/s cap");
        double ratio = measured.DirtyRateMib.Value / truthMib;
        Assert.True(ratio is > 0.5 and < 2, $"measured {measured.DirtyRateMib} MiB/s ({measured.Mode.ToQapi()}) while the guest wrote {truthMib:0.0} MiB/s of distinct pages");
    }
}
