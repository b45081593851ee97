using Tern.Machine;
using Tern.Migration.Api;
using Tern.Migration.Engine;

namespace Tern.Migration.Tests.Postcopy;

/// <summary>
/// A guest that touches random pages in a tight loop, resumed in post-copy with most of its working set still on the
/// source and the background stream slowed to a trickle, keeps making progress (its heartbeats, which it emits from
/// its own loop) while the stream is still far from done: its faults are answered on the urgent lane, not when the
/// background stream happens to reach the page.
/// </summary>
[Collection(Tern.Migration.Tests.KvmCollection.Name)]
public sealed class FaultingGuestProgressTests
{
    [Theory]
    [InlineData(MachineBackend.Sim)]
    [InlineData(MachineBackend.Kvm)]
    public void A_guest_faulting_in_a_tight_loop_progresses_while_the_background_stream_runs(MachineBackend backend)
    {
        const string workload = "random:ws=192M";
        const ulong memory = 256 << 20;
        using var m = PostcopyRun.Create(backend, workload, memory: memory);
        // After the switch the background stream sends about 1 MiB/s (max-postcopy-bandwidth; pre-copy's pass is not slowed).
        m.Settings.SetParameters(new MigrationParameters { MaxBandwidth = 512 << 20, MaxPostcopyBandwidth = 1 << 20 });
        m.Source.Resume();
        Thread.Sleep(200);
        var (source, run) = m.Start();
        source.StartPostcopy();
        try
        {
            Assert.True(SpinWait.SpinUntil(() => m.Destination.Status == MigrationStatus.PostcopyActive || m.Destination.Status.IsFinished(), TimeSpan.FromSeconds(60)),
                $"the destination never reached postcopy-active; {m.Describe(source)}");
            Assert.Equal(MigrationStatus.PostcopyActive, m.Destination.Status);
            var machine = m.DestinationMachine!;
            long Beats() => machine.Heartbeats.Count(0) + machine.Heartbeats.Count(1);
            long beatsBefore = Beats();
            long faultsBefore = m.Destination.Info().Postcopy!.Faults;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            // The last moment at which pages were still missing: the guest's own pulls may fetch its whole working set
            // before the window ends (the simulated guest asks for a batch's pages at once), so the window ends there.
            (long Beats, PostcopyStats Stats, TimeSpan At)? last = null;
            while (clock.Elapsed < TimeSpan.FromSeconds(1.5))
            {
                long beats = Beats();
                var now = m.Destination.Info().Postcopy!;
                if (now.MissingPages == 0) break;
                last = (beats, now, clock.Elapsed);
                Thread.Sleep(10);
            }
            Assert.True(last is { } l && l.At >= TimeSpan.FromMilliseconds(100),
                $"the background stream was not slow enough to measure (pages still missing for {last?.At.TotalMilliseconds ?? 0:0} ms)");
            var (beatsAfter, stats, window) = last!.Value;
            Assert.True(stats.Faults > faultsBefore + 20, $"the guest faulted only {stats.Faults - faultsBefore} times in {window.TotalMilliseconds:0} ms");
            Assert.True(beatsAfter > beatsBefore + 5,
                $"the guest stalled on its faults: {beatsAfter - beatsBefore} heartbeats in {window.TotalMilliseconds:0} ms with {stats.Faults - faultsBefore} faults served " +
                $"({stats.MissingPages} of {stats.StalePages} pages still missing; p50 {stats.FaultLatencyP50Us} µs, p99 {stats.FaultLatencyP99Us} µs)");
        }
        finally
        {
            m.Settings.SetParameters(new MigrationParameters());
        }
        m.Finish(source, run);
        Assert.True(source.Status == MigrationStatus.Completed, m.Describe(source));
        Assert.True(source.Info().Verification is { Matched: true });
        PostcopyRun.VerifyDestination(m, workload, memory: memory);
    }
}
