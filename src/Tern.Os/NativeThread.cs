using Tern.Os.Libc;

namespace Tern.Os;

/// <summary>Identity of the calling OS thread, so another thread can signal it.</summary>
public readonly record struct NativeThread(nuint PthreadId, int ThreadId)
{
    /// <summary>Must be called on the thread itself (pthread_self is only meaningful there).</summary>
    public static NativeThread Current() => new(LibC.PthreadSelf(), (int)LibC.Syscall(LibCConstants.SYS_gettid));

    /// <summary>Sends a signal to this thread. Returns false if the thread no longer exists.</summary>
    public bool Signal(int signal)
    {
        int error = LibC.PthreadKill(PthreadId, signal);
        if (error == 0) return true;
        if (error == 3 /* ESRCH */) return false;
        throw new OsException($"pthread_kill(signal {signal})", error);
    }
}
