using Tern.Guest;
using Tern.Machine;
using Tern.Machine.Sim;
using Tern.Memory;
using Tern.Memory.Dirty;
using Tern.Migration.Api;
using Tern.Migration.Tests.Engine;

namespace Tern.Migration.Tests.Engine;

/// <summary>
/// The first pass sends never-touched RAM as zero without reading it. A page the guest first writes during that pass
/// must still arrive, even when the migration converges right after the first pass (a regression: the final pass
/// once reused the first pass's hole list and sent such pages as zero).
/// </summary>
public sealed class FirstPassHoleTests
{
    /// <summary>A simulated machine that runs only once: the migration cannot resume it, so both sides stay comparable.</summary>
    private sealed class Frozen(SimMachine inner, bool firstResume = false) : IVirtualMachine
    {
        private bool resumed = !firstResume;
        public SimMachine Inner => inner;
        public MachineDescription Description => inner.Description;
        public IGuestMemory Memory => inner.Memory;
        public IDirtyTracker DirtyTracker => inner.DirtyTracker;
        public HeartbeatMonitor Heartbeats => inner.Heartbeats;
        public MachineRunState State => inner.State;
        public MachineFault? Fault => null;
        public event Action<MachineFault>? Faulted { add { } remove { } }
        public void Resume() { if (!resumed) { resumed = true; inner.Resume(); } }
        public TimeSpan Pause() => inner.Pause();
        public byte[] SaveState() => inner.SaveState();
        public void RestoreState(ReadOnlySpan<byte> s) => inner.RestoreState(s);
        public void SetThrottle(int v, double f) { }
        public double GetThrottle(int v) => 0;
        public void Dispose() { }
    }

    [Theory]
    [InlineData("hotcold:ws=32M,hot=8M,p=0.95,rate=40", false, 96, 1, 64)]
    [InlineData("random:ws=32M,rate=30", true, 0, 2, 128)]
    public void Pages_first_written_during_the_first_pass_arrive_even_when_it_converges_at_once(string w, bool multifd, int bw, int vcpus, int mem)
    {
        Frozen? frozen = null;
        var srcInner = SimMachine.Create(new SimMachineOptions((ulong)mem << 20, vcpus, WorkloadSpec.Parse(w)));
        var src = new Frozen(srcInner, firstResume: true);
        using var m = new LocalMigration(src, d => frozen = new Frozen(SimMachine.CreateIncoming(new SimMachineOptions(d.MemoryBytes, d.VcpuCount, WorkloadSpec.Parse(d.Workload)))));
        m.Settings.SetCapability(MigrationCapability.Verify, true);
        if (multifd) m.Settings.SetCapability(MigrationCapability.Multifd, true);
        m.Settings.SetParameters(new MigrationParameters { MaxBandwidth = (ulong)bw << 20, MultifdChannels = 3 });
        m.Source.Resume();
        Thread.Sleep(300);
        var source = m.Run();
        var d1 = Tern.Migration.Engine.RamDigests.Compute(src.Memory);
        var d2 = Tern.Migration.Engine.RamDigests.Compute(frozen!.Memory);
        var r1 = string.Join(",", src.Memory.PopulatedRanges().Select(r => $"{r.FirstPage.Value}+{r.PageCount}"));
        var r2 = string.Join(",", frozen!.Memory.PopulatedRanges().Select(r => $"{r.FirstPage.Value}+{r.PageCount}"));
        var diffs = new List<string>();
        var a = new byte[4096]; var b = new byte[4096];
        for (ulong p = 0; p < src.Memory.PageCount; p++)
        {
            src.Memory.ReadPage(new PageIndex(p), a);
            frozen!.Memory.ReadPage(new PageIndex(p), b);
            if (!a.AsSpan().SequenceEqual(b)) { int i = a.AsSpan().CommonPrefixLength(b); diffs.Add($"page {p} at {i}: src {a[i]:x2} dst {b[i]:x2}"); }
        }
        var layout = srcInner.Model.Layout;
        Assert.True(diffs.Count == 0 && source.Status == MigrationStatus.Completed, $"digests {d1} {d2}\nsrc ranges {r1}\ndst ranges {r2}\n{diffs.Count} pages differ: {string.Join("; ", diffs.Take(10))}\nworking set {layout.WorkingSet}\n{m.Describe(source)}");
    }
}
