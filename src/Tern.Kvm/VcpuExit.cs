namespace Tern.Kvm;

/// <summary>
/// Why <c>KVM_RUN</c> returned, decoded once from the shared <c>kvm_run</c> page. A value type: the vCPU loop
/// decodes one per exit and must not allocate.
/// </summary>
public readonly record struct VcpuExit(
    KvmExitReason Reason,
    bool Interrupted = false,
    ushort Port = 0,
    bool IsOut = false,
    byte Size = 0,
    uint Count = 0,
    ulong Address = 0,
    uint Detail = 0,
    ulong Detail2 = 0)
{
    /// <summary><c>KVM_RUN</c> returned EINTR: a kick from another thread (or immediate_exit).</summary>
    public static VcpuExit Kicked => new(KvmExitReason.Intr, Interrupted: true);

    public override string ToString() => Reason switch
    {
        KvmExitReason.Io => $"{(IsOut ? "out" : "in")} port 0x{Port:x} size {Size} count {Count}",
        KvmExitReason.Mmio => $"mmio {(IsOut ? "write" : "read")} at 0x{Address:x} size {Size}",
        KvmExitReason.InternalError => $"KVM internal error, suberror {Detail}",
        KvmExitReason.FailEntry => $"VM entry failed, hardware reason 0x{Address:x} on cpu {Detail}",
        KvmExitReason.SystemEvent => $"system event type {Detail}",
        KvmExitReason.Exception => $"exception {Detail} error code {Detail2}",
        _ => Reason.ToString(),
    };
}
