using Tern.Guest;
using Tern.Machine;
using Tern.Machine.Sim;
using Tern.Migration.Api;
using Tern.Migration.Engine;
using Tern.Migration.Tests.Support;

namespace Tern.Migration.Tests.Trust;

/// <summary>
/// One migration of a running simulated guest to a <see cref="LyingDestination"/>, and what the source must do
/// whatever the peer did: keep its VM unless it committed, run the guest again, and never keep it paused longer than
/// the downtime limit plus the margin (measured from the guest's own heartbeats: the longest gap between two).
/// </summary>
internal sealed class LyingPeerRun : IDisposable
{
    /// <summary>Converges in a pass or two over loopback: reaches the switchover.</summary>
    public const string Converging = "random:ws=8M,rate=64";
    /// <summary>Dirties fast enough that the final pass is more than the socket buffers hold, and still converges over loopback.</summary>
    public const string BusyConverging = "seq:ws=48M,rate=512";
    /// <summary>A first pass of about 48 MiB, more than the socket buffers on both sides hold.</summary>
    public const string LargeFirstPass = "seq:ws=48M,rate=64";

    /// <summary>Short enough to keep the tests quick; the defaults (30 s, 10 s) are the same code with other figures.</summary>
    public static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(3);
    public static readonly TimeSpan WriteStallLimit = TimeSpan.FromSeconds(2);

    /// <summary>
    /// What the pause measurement may exceed the bound by: waking the migration thread, resuming the vCPUs, and the
    /// guest's next heartbeat, on a host shared with other test runs. Without the bound the pause lasts until the
    /// test ends (seconds to forever), so this slack does not hide a missing bound.
    /// </summary>
    public static readonly TimeSpan PauseSlack = TimeSpan.FromSeconds(1);

    private readonly IVirtualMachine guest;
    private readonly IVirtualMachine migrated;
    private readonly MigrationSettings settings = new();
    private readonly List<string> log = [];

    public LyingPeerRun(LieStep at, Lie lie, string workload, ulong maxBandwidth = 0, Func<SimMachine, IVirtualMachine>? wrap = null)
        : this(new LyingDestination(at, lie), workload, maxBandwidth, wrap)
    {
    }

    public LyingPeerRun(LyingDestination destination, string workload, ulong maxBandwidth = 0, Func<SimMachine, IVirtualMachine>? wrap = null)
        : this(destination, SimMachine.Create(new SimMachineOptions(64 << 20, 1, WorkloadSpec.Parse(workload)) { BatchWrites = 128 }),
            workload is LargeFirstPass or BusyConverging ? TimeSpan.FromSeconds(1) : TimeSpan.FromMilliseconds(100), maxBandwidth, wrap)
    {
    }

    /// <param name="guest">A machine loaded with a guest, not yet running; the run owns it.</param>
    /// <param name="warmUp">How long the guest runs before the migration, to populate its working set.</param>
    public LyingPeerRun(LyingDestination destination, IVirtualMachine guest, TimeSpan warmUp, ulong maxBandwidth = 0,
        Func<SimMachine, IVirtualMachine>? wrap = null)
    {
        this.guest = guest;
        migrated = guest is SimMachine sim && wrap is not null ? wrap(sim) : guest;
        settings.SetParameters(settings.Parameters with { MaxBandwidth = maxBandwidth });
        Destination = destination;
        guest.Resume();
        Thread.Sleep(warmUp);
    }

    public LyingDestination Destination { get; }
    public IVirtualMachine Guest => guest;
    public long DowntimeLimitMs => settings.Parameters.DowntimeLimitMs;

    /// <summary>The longest the source may keep the guest paused (the prediction counted at its largest, the limit).</summary>
    public TimeSpan PauseBound => SwitchoverDeadline.For(DowntimeLimitMs, null, false, guest.Memory.Size);

    /// <summary>The write-stall limit the source gets (shortened by default; the default 10 s where the test needs it).</summary>
    public TimeSpan StallLimit { get; init; } = WriteStallLimit;

    public MigrationSource Migrate(TimeSpan? within = null)
    {
        var source = new MigrationSource(migrated, settings) { ReplyTimeout = ReplyTimeout, WriteStallLimit = StallLimit };
        source.Event += e => { if (e is MigrationLog l) lock (log) log.Add(l.Text); };
        guest.Heartbeats.Mark();
        var run = source.RunAsync(Destination.Uri);
        var limit = within ?? TimeSpan.FromSeconds(40);
        Assert.True(run.Wait(limit), $"the source did not finish within {limit.TotalSeconds} s against {Destination}; {Describe(source)}");
        return source;
    }

    /// <summary>The longest the guest went without a heartbeat since the migration started.</summary>
    public TimeSpan LongestPause => TimeSpan.FromTicks(guest.Heartbeats.MaxGapNs / 100);

    public string Describe(MigrationSource source) =>
        $"peer: {Destination}; source {source.Status}, outcome {source.Outcome} ({source.Info().ErrorDesc}); " +
        $"guest {guest.State}, longest pause {LongestPause.TotalMilliseconds:0} ms; peer received {string.Join(",", Destination.Received.Take(8))}...; " +
        $"log:\n{string.Join('\n', Snapshot())}";

    private List<string> Snapshot() { lock (log) return log.ToList(); }

    /// <summary>The source kept the VM: it failed, says why, runs the guest, and did not hold it paused past the bound.</summary>
    public void AssertSourceKeptTheVm(MigrationSource source, string? replay = null)
    {
        var context = replay is null ? Describe(source) : $"{replay}\n{Describe(source)}";
        Assert.True(source.Status == MigrationStatus.Failed, context);
        Assert.True(source.Outcome == MigrationOutcome.SourceKeepsVm, context);
        Assert.False(Destination.GotCommit, "the source committed: " + context);
        AssertRunning(context);
        AssertPauseBounded(context);
    }

    /// <summary>The guest runs: a simulated one's counters move; a KVM guest's heartbeats keep coming.</summary>
    private void AssertRunning(string context)
    {
        if (guest is SimMachine)
        {
            GuestProgress.AssertRunning(guest, context);
            return;
        }
        Assert.True(guest.State == MachineRunState.Running, $"the source VM is {guest.State}, not running; {context}");
        long before = guest.Heartbeats.TotalCount;
        Assert.True(SpinWait.SpinUntil(() => guest.Heartbeats.TotalCount > before + 10, TimeSpan.FromSeconds(5)),
            $"the source VM's heartbeats stopped; {context}");
    }

    public void AssertPauseBounded(string context) =>
        Assert.True(LongestPause <= PauseBound + PauseSlack,
            $"the guest was paused for {LongestPause.TotalMilliseconds:0} ms, over the bound of {PauseBound.TotalMilliseconds:0} ms " +
            $"(+{PauseSlack.TotalMilliseconds:0} ms slack); {context}");

    public void Dispose()
    {
        Destination.Dispose();
        guest.Dispose();
    }
}
