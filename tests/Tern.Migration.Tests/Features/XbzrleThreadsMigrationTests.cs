using Tern.Guest;
using Tern.Machine.Kvm;
using Tern.Migration.Api;
using Tern.Migration.Engine;
using Tern.Migration.Planning;
using Tern.Migration.Tests.Engine;

namespace Tern.Migration.Tests.Features;

/// <summary>
/// Whole migrations over loopback TCP with XBZRLE encoded on several threads: the guest arrives byte for byte
/// (x-verify), the passes report the threads that encoded them, and the XBZRLE statistics hang together.
/// </summary>
public sealed class XbzrleThreadsMigrationTests
{
    /// <summary>Two threads where the host has the cores (the count is capped by them).</summary>
    private static readonly int TwoOrCores = Math.Min(2, Environment.ProcessorCount);

    /// <summary>The stride guest (16 MiB rewritten a byte per KiB, over and over) on a 32 MiB/s link: it converges only with XBZRLE.</summary>
    private static LocalMigration Stride(int channels, int xbzrleThreads)
    {
        var m = LocalMigration.Sim("stride", memoryBytes: 64 << 20, vcpus: 1);
        m.Settings.SetParameters(new MigrationParameters
        {
            MaxBandwidth = 32 << 20, DowntimeLimitMs = 300, TimeoutMs = 60_000, MultifdChannels = channels, XbzrleThreads = xbzrleThreads,
        });
        m.Settings.SetCapability(MigrationCapability.Verify, true);
        m.Settings.SetCapability(MigrationCapability.Xbzrle, true);
        if (channels > 1) m.Settings.SetCapability(MigrationCapability.Multifd, true);
        m.Source.Resume();
        Thread.Sleep(200);
        return m;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void With_two_threads_the_guest_arrives_byte_for_byte_and_the_statistics_hang_together(int channels)
    {
        using var m = Stride(channels, xbzrleThreads: 2);
        var source = m.Run();
        Assert.True(source.Status == MigrationStatus.Completed, m.Describe(source));
        var info = source.Info();
        Assert.True(info.Verification!.Matched, m.Describe(source));

        // Every pass big enough for the workers ran on them (a smaller one, like the final pass, stays on the
        // migration thread: SourcePageEncoder.MinPagesPerWorker).
        var xbzrlePasses = source.History.Where(p => p.XbzrleThreads > 0).ToList();
        Assert.Contains(xbzrlePasses, p => p.XbzrleThreads == TwoOrCores && p.XbzrlePages > 0);
        Assert.All(xbzrlePasses, p => Assert.True(p.XbzrleThreads == TwoOrCores || (p.XbzrleThreads == 1 && Sent(p) < SourcePageEncoder.MinPagesPerWorker * TwoOrCores),
            $"pass {p.Pass}: {Sent(p)} pages on {p.XbzrleThreads} threads"));
        if (TwoOrCores == 2) Assert.Contains(m.Log, l => l.Contains("xbzrle threads 1 -> 2: x-xbzrle-threads is 2", StringComparison.Ordinal));

        var cache = info.XbzrleCache!;
        long xbzrlePages = source.History.Sum(p => p.XbzrlePages);
        Assert.True(cache.Pages > 4096, $"re-dirtied pages went as deltas ({cache.Pages}); {m.Describe(source)}");
        // Every page QEMU counts as XBZRLE is one the passes sent as an XBZRLE record, and each cost at least its
        // 3-byte header plus a run; the bytes also hold a page per overflow.
        Assert.Equal(xbzrlePages, cache.Pages);
        Assert.InRange(cache.Bytes, cache.Pages * 5 + cache.Overflow * 4096, cache.Pages * 4096 + cache.Overflow * 4096);
        Assert.Equal(info.Ram!.Normal + info.Ram.Duplicate + cache.Pages, source.History.Sum(p => p.NormalPages + p.ZeroPages + p.XbzrlePages));
        // The working set fits: after the first XBZRLE pass, which fills the empty cache (every lookup misses), at most
        // a fifth of the lookups miss. Counted over the whole migration: cache-miss-rate is the last pass's alone, and
        // the final pass may be a few dozen pages, where a handful of misses (pages written for the first time) made
        // it 0.24 in 1 of 16 runs.
        long fill = xbzrlePasses[0].NormalPages + xbzrlePasses[0].XbzrlePages;
        long later = xbzrlePasses.Skip(1).Sum(p => p.NormalPages + p.XbzrlePages);
        Assert.True(cache.CacheMiss <= fill + 0.2 * later, $"the working set fits: {cache.CacheMiss} misses, {fill} lookups filling the cache, {later} after");
        Assert.True(cache.EncodingRate > 50, $"deltas are small: encoding-rate {cache.EncodingRate}");
        if (channels > 1) Assert.All(info.ChannelBytes!, b => Assert.True(b > 0, $"every channel carried pages: {string.Join(", ", info.ChannelBytes!)}"));
    }

    [Fact]
    public void The_automatic_count_follows_the_measured_figures_of_the_pass_before()
    {
        using var m = Stride(channels: 2, xbzrleThreads: 0);
        var source = m.Run();
        Assert.True(source.Status == MigrationStatus.Completed, m.Describe(source));
        Assert.True(source.Info().Verification!.Matched);

        var passes = source.History;
        Assert.Contains(passes, p => p.XbzrleThreads > 0);
        for (int i = 1; i < passes.Count; i++)
        {
            var before = passes[i - 1];
            if (before.XbzrleThreads == 0 || passes[i].XbzrleThreads == 0) continue;
            Assert.NotNull(before.EncodeBytesPerThreadSecond);
            Assert.NotNull(before.LinkBytesPerSecond);
            var (expected, reason) = XbzrleThreadChoice.ForNextPass(0, Environment.ProcessorCount, before.EncodeBytesPerThreadSecond, before.LinkBytesPerSecond,
                m.Settings.Parameters.MaxBandwidth);
            // A pass too small for the workers runs on the migration thread whatever the plan.
            bool small = Sent(passes[i]) < SourcePageEncoder.MinPagesPerWorker * expected;
            Assert.True(expected == passes[i].XbzrleThreads || (small && passes[i].XbzrleThreads == 1),
                $"pass {passes[i].Pass}: {passes[i].XbzrleThreads} threads for {Sent(passes[i])} pages, the figures of pass {before.Pass} say {expected} ({reason})");
        }
    }

    /// <summary>Pages a pass sent (unchanged pages it skipped aside).</summary>
    private static long Sent(PassReport p) => p.NormalPages + p.ZeroPages + p.XbzrlePages;

    [Fact]
    public void A_cancel_in_the_middle_of_a_pass_on_two_threads_stops_promptly_and_the_guest_stays()
    {
        // 4 MiB/s and a 1 ms downtime limit: the passes go on (even as deltas, 16 MiB of stride pages take tens of
        // ms), and the cancel lands while the workers encode or between passes, whenever the host lets it run.
        using var m = Stride(channels: 2, xbzrleThreads: 2);
        m.Settings.SetParameters(m.Settings.Parameters with { MaxBandwidth = 4 << 20, DowntimeLimitMs = 1 });
        var (source, run) = m.Start(s => s.Event += e =>
        {
            if (e is MigrationPassStarted { Pass: 3 }) ThreadPool.QueueUserWorkItem(_ => { Thread.Sleep(150); s.Cancel(); });
        });
        m.FinishSource(source, run, TimeSpan.FromSeconds(60));
        Assert.True(source.Status == MigrationStatus.Cancelled, m.Describe(source));
        Assert.Equal(MigrationOutcome.SourceKeepsVm, source.Outcome);
        Assert.Contains(source.History, p => p.XbzrleThreads == TwoOrCores);
        Assert.Equal(Tern.Machine.MachineRunState.Running, m.Source.State);
    }

    [Fact]
    public void A_kvm_guest_moves_with_xbzrle_on_two_threads()
    {
        RequireKvm.Present();
        const ulong memory = 128 << 20;
        var spec = WorkloadSpec.Parse("hotcold:ws=32M,hot=4M,p=0.9");
        var guest = KvmGuests.Boot(spec, memory, 1);
        using var m = new LocalMigration(guest, d => KvmMachine.Create(new KvmMachineOptions(d.MemoryBytes, d.VcpuCount) { Workload = d.Workload }));
        m.Settings.SetCapability(MigrationCapability.Verify, true);
        m.Settings.SetCapability(MigrationCapability.Xbzrle, true);
        m.Settings.SetParameters(new MigrationParameters { MaxBandwidth = 64 << 20, XbzrleThreads = 2, TimeoutMs = 60_000 });
        guest.Resume();
        Thread.Sleep(300);

        var source = m.Run();
        Assert.True(source.Status == MigrationStatus.Completed, m.Describe(source));
        Assert.True(source.Info().Verification!.Matched, m.Describe(source));
        Assert.Contains(source.History, p => p.XbzrleThreads == TwoOrCores && p.XbzrlePages > 0);
    }
}
