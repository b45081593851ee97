using System.Diagnostics;
using Tern.Machine;
using Tern.Migration.Api;
using Tern.Migration.Pages;
using Tern.Migration.Protocol;
using Tern.Migration.Transport;
using Tern.Os;

namespace Tern.Migration.Engine;

/// <summary>
/// One incoming migration, from the source's Hello on (an <see cref="IncomingMigrations"/> hands it the connection and
/// its page channels). It builds the machine the source describes, receives RAM and state,
/// checks them, and resumes the guest only when the source commits the hand-over. Anything out of place in the
/// stream ends the attempt with an error that names it, and the destination's copy is discarded; the source keeps
/// its VM. The receiver is a state machine: each message is accepted only in the states where it belongs.
/// </summary>
public sealed partial class MigrationDestination : IDisposable
{
    private readonly IMigrationListener? ownListener;
    private IncomingMigrations? router;
    private readonly Func<MachineDescription, IVirtualMachine> createMachine;
    private readonly CancellationTokenSource cancel = new();
    private readonly object gate = new();
    private readonly ReceiveCounters counters = new();
    private readonly PassBarrier barrier = new();
    private DestinationConnections connections = new(); // replaced by a recovered post-copy link
    private readonly TaskCompletionSource completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly long startedAt = Stopwatch.GetTimestamp();
    private MigrationStatus status = MigrationStatus.None;
    private DestinationState state = DestinationState.AwaitingHello;
    private string? errorText;
    private Exception? failure;
    private IVirtualMachine? machine;
    private HelloMessage? hello;
    private ProtocolCapability negotiated;
    private PageApplier? applier;
    private long totalMs = -1;
    private readonly DestinationLimits limits;
    private readonly (ulong Bytes, string Description) memoryLimit;
    private readonly (int Count, string Description) vcpuLimit;

    /// <param name="createMachine">Builds (or checks and returns) the machine that will receive the guest; throws to refuse.</param>
    /// <param name="limits">
    /// What this destination accepts (null: the defaults, with the host's memory as the RAM limit). A Hello is only a
    /// claim from the network: without a limit a peer could make this process reserve any amount.
    /// </param>
    public MigrationDestination(Func<MachineDescription, IVirtualMachine> createMachine, DestinationLimits? limits = null)
    {
        limits ??= new DestinationLimits();
        if (limits.Validate() is { } problem) throw new ArgumentException(problem, nameof(limits));
        this.createMachine = createMachine;
        this.limits = limits;
        ulong bytes = limits.MemoryBytes ?? HostMemoryInfo.Read().TotalBytes;
        memoryLimit = (bytes, limits.MemoryBytes is null ? $"the host's {ByteSize(bytes)} of memory" : $"the {ByteSize(bytes)} this destination was started with");
        int vcpus = limits.Vcpus ?? Tern.Guest.GuestBuildOptions.MaxVcpus;
        vcpuLimit = (vcpus, limits.Vcpus is null ? $"the {vcpus} Tern supports" : $"the {vcpus} this destination was started with");
    }

    /// <summary>A destination that takes the first migration arriving on <paramref name="listener"/> (see <see cref="RunAsync"/>).</summary>
    /// <param name="listener">Listening already (see <see cref="IMigrationTransport.Listen"/>); stays the caller's.</param>
    public MigrationDestination(IMigrationListener listener, Func<MachineDescription, IVirtualMachine> createMachine, DestinationLimits? limits = null)
        : this(createMachine, limits)
    {
        ownListener = listener;
    }

    public event Action<MigrationEvent>? Event;

    public MigrationStatus Status { get { lock (gate) return status; } }

    /// <summary>The machine, once the hand-over completed (the host takes ownership of it then).</summary>
    public IVirtualMachine? Machine { get; private set; }

    /// <summary>Where this attempt stands, in the operator's words (shown while paused waiting for the commit).</summary>
    public DestinationState State { get { lock (gate) return state; } }

    public MigrationInfo Info()
    {
        lock (gate)
        {
            long bytes = connections.BytesRead + earlierLinksBytes;
            return new MigrationInfo
            {
                Status = status,
                Ram = status is MigrationStatus.None ? null : counters.Snapshot(bytes, hello?.Machine.MemoryBytes ?? 0),
                TotalTimeMs = totalMs >= 0 ? totalMs : (long)Stopwatch.GetElapsedTime(startedAt).TotalMilliseconds,
                ErrorDesc = status == MigrationStatus.Failed ? errorText
                    : status is MigrationStatus.PostcopyPaused or MigrationStatus.PostcopyRecover ? pause?.Reason : null,
                Channels = connections.Count is > 0 and var n ? n : null,
                Postcopy = postcopy?.Stats(),
            };
        }
    }
}
