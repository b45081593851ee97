namespace Tern.Machine.Kvm;

/// <summary>A message to a vCPU thread. The thread answers through <see cref="Completion"/>.</summary>
internal sealed class VcpuRequest(VcpuRequestKind kind, Func<object?>? work = null)
{
    public VcpuRequestKind Kind { get; } = kind;

    /// <summary>For <see cref="VcpuRequestKind.Execute"/>: work that must run on the vCPU thread (state ioctls).</summary>
    public Func<object?>? Work { get; } = work;

    public TaskCompletionSource<object?> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

internal enum VcpuRequestKind
{
    /// <summary>Run the guest (start or resume).</summary>
    Run,
    /// <summary>Leave guest mode and wait.</summary>
    Pause,
    /// <summary>Run a piece of work on the vCPU thread while paused (state save and restore need this).</summary>
    Execute,
    /// <summary>End the thread.</summary>
    Exit,
}
