using Tern.Os.Libc;

namespace Tern.Os;

/// <summary>
/// The signal Tern sends to a vCPU thread to make a blocking <c>KVM_RUN</c> return with EINTR. Its handler does
/// nothing: the point is only to interrupt the ioctl. The default action of SIGUSR1 would kill the process, so the
/// handler is installed once, before any vCPU runs.
/// </summary>
public static unsafe class KickSignal
{
    /// <summary>SIGUSR1: not used by the .NET runtime (it uses INT, QUIT, TERM, CONT, SEGV, and signals 33/34).</summary>
    public const int Number = 10;

    private static readonly object Gate = new();
    private static MemoryMapping? handlerPage;

    /// <summary>Installs the no-op handler (idempotent, thread-safe).</summary>
    public static void EnsureInstalled()
    {
        lock (Gate)
        {
            if (handlerPage is not null) return;
            // A native handler that only returns: one page holding `ret` (0xC3), mapped executable. A managed
            // handler would run in signal context, where the runtime cannot cope.
            var page = MemoryMapping.MapAnonymous(4096, executable: true);
            page.GetSpan(0, 1)[0] = 0xC3;
            var action = default(SigactionStruct);
            action.Handler = page.Address;
            LibC.Sigemptyset(action.Mask);
            action.Flags = 0; // no SA_RESTART: KVM_RUN must return EINTR
            if (LibC.Sigaction(Number, &action, null) != 0) OsException.ThrowLastError("sigaction(SIGUSR1)");
            handlerPage = page; // kept for the life of the process: the kernel calls into it
        }
    }
}
