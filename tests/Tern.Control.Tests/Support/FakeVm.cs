using Tern.Control.DirtyRate;
using System.Collections.Concurrent;
using Tern.Control;
using Tern.Migration.Api;

namespace Tern.Control.Tests.Support;

/// <summary>
/// A test double of <see cref="IVmControl"/>: an in-memory VM whose run state and migration the test drives, and which
/// records every call the QMP server makes. A double is the right tool here because these tests exercise the protocol
/// layer (framing, negotiation, argument checking, event fan-out, client library, CLI) and not a VM; the real
/// implementation is the VM host's. It follows the interface's contract: thread-safe, refusals as
/// <see cref="VmControlException"/>, MIGRATION and MIGRATION_PASS only while the <c>events</c> capability is on.
/// </summary>
public sealed class FakeVm : IVmControl
{
    private readonly Lock _lock = new();
    private RunState _runState = RunState.Running;
    private MigrationInfo _migration = new();
    private MigrationParameters _parameters = new();
    private readonly Dictionary<MigrationCapability, bool> _capabilities =
        Enum.GetValues<MigrationCapability>().ToDictionary(c => c, _ => false);

    /// <summary>Every call, as "name" or "name:argument", in order.</summary>
    public ConcurrentQueue<string> Calls { get; } = new();

    /// <summary>Set by the test to allow <c>migrate-incoming</c> (as if started with <c>--incoming defer</c>).</summary>
    public bool IncomingDeferred { get; set; }

    /// <summary>When set, <see cref="Stop"/> waits for it, so a test can hold a command in flight.</summary>
    public ManualResetEventSlim? StopGate { get; set; }

    /// <summary>Runs after <see cref="StartMigration"/> returns, on the thread pool: a scripted migration for CLI tests.</summary>
    public Func<FakeVm, Task>? MigrationScript { get; set; }

    public event EventHandler<VmEvent>? EventRaised;

    public RunState RunState
    {
        get { lock (_lock) return _runState; }
        set { lock (_lock) _runState = value; }
    }

    public bool QuitRequested { get; private set; }

    public void Stop()
    {
        Calls.Enqueue("stop");
        StopGate?.Wait();
        lock (_lock)
        {
            if (_runState != RunState.Running) return;
            _runState = RunState.Paused;
        }
        Raise(VmEvent.Stop());
    }

    public void Cont()
    {
        Calls.Enqueue("cont");
        lock (_lock)
        {
            if (_runState == RunState.PostMigrate)
            {
                throw new VmControlException("the guest migrated away and now runs on the destination");
            }
            _runState = RunState.Running;
        }
        Raise(VmEvent.Resume());
    }

    public void Quit()
    {
        Calls.Enqueue("quit");
        QuitRequested = true;
    }

    public MigrationInfo QueryMigrate()
    {
        lock (_lock) return _migration;
    }

    public void StartMigration(string uri)
    {
        Calls.Enqueue("migrate:" + uri);
        if (!uri.StartsWith("tcp:", StringComparison.Ordinal))
        {
            throw new VmControlException($"unsupported migration URI '{uri}': use tcp:HOST:PORT");
        }
        lock (_lock)
        {
            if (_migration.Status is not (MigrationStatus.None or MigrationStatus.Completed or MigrationStatus.Failed
                or MigrationStatus.Cancelled))
            {
                throw new VmControlException("There's a migration process in progress");
            }
        }
        SetMigration(new MigrationInfo { Status = MigrationStatus.Setup });
        if (MigrationScript is { } script)
        {
            _ = Task.Run(() => script(this));
        }
    }

    public void StartIncoming(string uri)
    {
        Calls.Enqueue("migrate-incoming:" + uri);
        if (!IncomingDeferred)
        {
            throw new VmControlException("'-incoming' was not specified on the command line");
        }
        RunState = RunState.InMigrate;
    }

    public void StartPostcopy() => Calls.Enqueue("migrate-start-postcopy");

    public void CancelMigration()
    {
        Calls.Enqueue("migrate_cancel");
        MigrationStatus status;
        lock (_lock) status = _migration.Status;
        if (status is MigrationStatus.Setup or MigrationStatus.Active)
        {
            SetMigration(new MigrationInfo { Status = MigrationStatus.Cancelling });
            SetMigration(new MigrationInfo { Status = MigrationStatus.Cancelled });
        }
    }

    public IReadOnlyDictionary<MigrationCapability, bool> GetCapabilities()
    {
        lock (_lock) return new Dictionary<MigrationCapability, bool>(_capabilities);
    }

    public void SetCapabilities(IReadOnlyDictionary<MigrationCapability, bool> changes)
    {
        Calls.Enqueue("set-capabilities:" + string.Join(",", changes.Select(c => $"{c.Key.ToQapi()}={c.Value}")));
        lock (_lock)
        {
            if (_migration.Status is MigrationStatus.Setup or MigrationStatus.Active
                && changes.TryGetValue(MigrationCapability.Multifd, out var multifd) && multifd != _capabilities[MigrationCapability.Multifd])
            {
                throw new VmControlException("multifd cannot be switched while a migration runs");
            }
            foreach (var (capability, state) in changes)
            {
                _capabilities[capability] = state;
            }
        }
    }

    /// <summary>What <c>x-check-guest</c> answers; the test sets it (null: there is no guest here).</summary>
    public DirtyRateInfo DirtyRate { get; set; } = DirtyRateInfo.Unstarted;

    public void CalcDirtyRate(DirtyRateRequest request) =>
        Calls.Enqueue($"calc-dirty-rate:{request.CalcTimeSeconds}:{request.SamplePagesPerGib?.ToString() ?? "-"}:{request.Mode.ToQapi()}");

    public DirtyRateInfo QueryDirtyRate() => DirtyRate;

    /// <summary>What <c>query-vcpu-dirty-limit</c> returns.</summary>
    public IReadOnlyList<Tern.Migration.Throttle.VcpuDirtyLimit> DirtyLimits { get; set; } = [];

    public IReadOnlyList<Tern.Migration.Throttle.VcpuDirtyLimit> QueryVcpuDirtyLimit() => DirtyLimits;

    public GuestCheck? GuestCheck { get; set; }

    public GuestCheck CheckGuest(int maxMismatches)
    {
        Calls.Enqueue($"check-guest:{maxMismatches}");
        return GuestCheck ?? throw new VmControlException("there is no guest here");
    }

    public MigrationParameters GetParameters()
    {
        lock (_lock) return _parameters;
    }

    public void SetParameters(MigrationParameters parameters)
    {
        Calls.Enqueue("set-parameters");
        lock (_lock) _parameters = parameters;
    }

    // ---- Driven by tests ----

    /// <summary>Replaces the migration state; raises MIGRATION if the status changed and events are on.</summary>
    public void SetMigration(MigrationInfo info)
    {
        bool changed, events;
        lock (_lock)
        {
            changed = info.Status != _migration.Status;
            _migration = info;
            events = _capabilities[MigrationCapability.Events];
            if (info.Status == MigrationStatus.Completed)
            {
                _runState = RunState.PostMigrate;
            }
        }
        if (changed && events)
        {
            Raise(VmEvent.Migration(info.Status));
        }
    }

    /// <summary>Reports the start of pass <paramref name="pass"/> (if events are on).</summary>
    public void StartPass(long pass)
    {
        bool events;
        lock (_lock) events = _capabilities[MigrationCapability.Events];
        if (events)
        {
            Raise(VmEvent.MigrationPass(pass));
        }
    }

    public void Raise(VmEvent e) => EventRaised?.Invoke(this, e);

    public bool HasEventSubscribers => EventRaised is not null;
}
